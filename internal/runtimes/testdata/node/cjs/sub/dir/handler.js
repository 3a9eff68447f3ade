exports.run = async () => ({ where: __filename.split('/').slice(-3).join('/') });
