const vendored = require('vendored');

let count = 0;
console.log('init: module loaded');

exports.handler = async (event) => {
  // The AWS console's default Node.js function (CommonJS flavour).
  const response = {
    statusCode: 200,
    body: JSON.stringify('Hello from Lambda!'),
  };
  return response;
};

exports.echo = async (event) => event;

exports.undef = async () => undefined;

exports.context = async (event, context) => ({
  awsRequestId: context.awsRequestId,
  functionName: context.functionName,
  functionVersion: context.functionVersion,
  invokedFunctionArn: context.invokedFunctionArn,
  memoryLimitInMB: context.memoryLimitInMB,
  logGroupName: context.logGroupName,
  logStreamName: context.logStreamName,
  remainingPositive: context.getRemainingTimeInMillis() > 0 && context.getRemainingTimeInMillis() <= 60000,
  identity: context.identity,
  clientContext: context.clientContext,
  callbackWaitsForEmptyEventLoop: context.callbackWaitsForEmptyEventLoop,
  traceEnv: process.env._X_AMZN_TRACE_ID,
  executionEnv: process.env.AWS_EXECUTION_ENV,
  customVar: process.env.CUSTOM_VAR,
  nodePath: process.env.NODE_PATH,
  cwd: process.cwd(),
});

exports.fail = async () => {
  throw new Error('some_error_msg');
};

exports.failString = async () => {
  throw 'just a string';
};

exports.warm = async () => ++count;

exports.logs = async () => {
  console.log('hello from console.log');
  console.info('info', { a: 1 });
  console.warn('multi\nline');
  console.error('an error');
  console.debug('debugging');
  return 'logged';
};

exports.deps = async () => vendored.name;

// Callback handlers.
exports.callback = (event, context, callback) => {
  callback(null, { via: 'callback', got: event });
};

exports.callbackError = (event, context, callback) => {
  callback(new Error('callback failure'));
};

exports.callbackWaits = (event, context, callback) => {
  setTimeout(() => {
    console.log('timer fired');
  }, 20);
  callback(null, 'first');
};

exports.callbackNoWait = (event, context, callback) => {
  context.callbackWaitsForEmptyEventLoop = false;
  setTimeout(() => {}, 60000);
  callback(null, 'did not wait');
};

exports.syncNoReturn = (event, context) => {
  return 'ignored';
};

exports.uncaught = async () => {
  setImmediate(() => {
    throw new Error('thrown later');
  });
  return new Promise(() => {});
};

exports.rejection = async () => {
  Promise.reject(new Error('nobody catches me'));
  return new Promise(() => setTimeout(() => {}, 60000));
};

exports.area = async (event, context) => {
  const area = event.length * event.width;
  console.log(`The area is ${area}`);
  console.log(`CloudWatch log group: ${context.logGroupName}`);
  return JSON.stringify({ area });
};

exports.nested = { deeper: { fn: async () => 'nested ok' } };
exports.notAFunction = 42;

// An async handler whose promise never settles and leaves nothing to run.
exports.neverSettles = async () => new Promise(() => {});

exports.slow = async () => new Promise((resolve) => setTimeout(resolve, 60000));
