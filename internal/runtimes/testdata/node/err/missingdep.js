const x = require('no-such-dependency-anywhere');
exports.handler = async () => x;
