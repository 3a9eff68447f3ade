exports.handler = async () => [process.env.WRAPPED_BY, Number(process.env.WRAPPED_ARGC) > 0];
