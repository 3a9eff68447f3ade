exports.handler = async () => 'ok';
exports.notFn = 42;
