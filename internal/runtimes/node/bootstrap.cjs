// lambdad bootstrap for the nodejs*.x managed runtimes.
//
// A Runtime API 2018-06-01 client using Node built-ins only, behaving like
// AWS's aws-lambda-ric: it resolves _HANDLER ("dir/file.export[.nested]")
// from LAMBDA_TASK_ROOT (CommonJS, ES modules by package.json "type", .mjs,
// .cjs), patches console.* to AWS's log line format, reports init failures to
// /runtime/init/error, and loops on /runtime/invocation/next calling async or
// callback handlers with AWS's context object and callbackWaitsForEmptyEventLoop
// semantics. Errors are posted as {errorType, errorMessage, trace}. Handlers
// wrapped with awslambda.streamifyResponse stream their response (chunked
// POST, Lambda-Runtime-Function-Response-Mode: streaming, error trailers).
'use strict';

const http = require('http');
const util = require('util');
const path = require('path');
const fs = require('fs');

// ------------------------------------------------------------------ errors

class ImportModuleError extends Error {}
class HandlerNotFound extends Error {}
class MalformedHandlerName extends Error {}
class UserCodeSyntaxError extends Error {}
class MalformedStreamingHandler extends Error {}
class InvalidStreamingOperation extends Error {}
class CallbackHandlerDeprecated extends Error {}
// NodeJsExit's type is documented by AWS ("Lambda runtime client detected an
// unexpected Node.js exit code"); the exact message text is reconstructed.
class NodeJsExit extends Error {
  constructor() {
    super(
      'The Lambda runtime client detected an unexpected Node.js exit code. This is most commonly caused by a Promise that was never settled. For more information, see https://nodejs.org/docs/latest/api/process.html#exit-codes',
    );
  }
}
class UnhandledPromiseRejection extends Error {
  constructor(reason, promise) {
    super(reason);
    this.reason = reason;
    this.promise = promise;
  }
}
for (const e of [
  ImportModuleError,
  HandlerNotFound,
  MalformedHandlerName,
  UserCodeSyntaxError,
  MalformedStreamingHandler,
  InvalidStreamingOperation,
  CallbackHandlerDeprecated,
  NodeJsExit,
  UnhandledPromiseRejection,
]) {
  e.prototype.name = `Runtime.${e.name}`;
}

function isErrorLike(obj) {
  return (
    obj &&
    obj.name &&
    obj.message &&
    obj.stack &&
    typeof obj.name === 'string' &&
    typeof obj.message === 'string' &&
    typeof obj.stack === 'string'
  );
}

function intoError(err) {
  return err instanceof Error ? err : new Error(err);
}

function toRapidResponse(error) {
  try {
    if (util.types.isNativeError(error) || isErrorLike(error)) {
      return {
        errorType: error.name,
        errorMessage: error.message,
        trace: error.stack.split('\n'),
      };
    }
    return {
      errorType: typeof error,
      errorMessage: error.toString(),
      trace: [],
    };
  } catch (_err) {
    return {
      errorType: 'handled',
      errorMessage:
        'callback called with Error argument, but there was a problem while retrieving one or more of its message, name, and stack',
    };
  }
}

function withEnumerableProperties(error) {
  if (error instanceof Error) {
    const ret = Object.assign(
      { errorType: error.name, errorMessage: error.message, code: error.code },
      error,
    );
    if (typeof error.stack == 'string') {
      ret.stack = error.stack.split('\n');
    }
    return ret;
  }
  return error;
}

function toFormatted(error) {
  try {
    return '\t' + JSON.stringify(error, (_k, v) => withEnumerableProperties(v));
  } catch (_err) {
    return '\t' + JSON.stringify(toRapidResponse(error));
  }
}

// ------------------------------------------------------------------ console

const REQUEST_ID = Symbol.for('aws.lambda.runtime.requestId');

// The runtime's Node.js major version as AWS names it (nodejs24.x → 24),
// which can differ from the host interpreter's.
const NODE_RUNTIME_MAJOR = parseInt((/^AWS_Lambda_nodejs(\d+)/.exec(process.env.AWS_EXECUTION_ENV || '') || [])[1] || '0', 10);

const LOG_FORMAT_JSON = (process.env.AWS_LAMBDA_LOG_FORMAT || '').toUpperCase() === 'JSON';

function jsonErrorReplacer(_, value) {
  if (value instanceof Error) {
    return Object.assign(
      {
        errorType: value?.constructor?.name ?? 'UnknownError',
        errorMessage: value.message,
        stackTrace: typeof value.stack === 'string' ? value.stack.split('\n') : value.stack,
      },
      value,
    );
  }
  return value;
}

// The JSON log line of aws-lambda-ric (LoggingConfig LogFormat=JSON).
function formatJsonMessage(requestId, timestamp, level, ...messageParams) {
  const result = { timestamp, level, requestId };
  if (messageParams.length === 1) {
    result.message = messageParams[0];
    try {
      return JSON.stringify(result, jsonErrorReplacer);
    } catch (_) {
      result.message = util.format(result.message);
      return JSON.stringify(result);
    }
  }
  result.message = util.format(...messageParams);
  for (const param of messageParams) {
    if (param instanceof Error) {
      result.errorType = param?.constructor?.name ?? 'UnknownError';
      result.errorMessage = param.message;
      result.stackTrace = typeof param.stack === 'string' ? param.stack.split('\n') : [];
      break;
    }
  }
  return JSON.stringify(result);
}

function patchConsole() {
  const write = LOG_FORMAT_JSON
    ? (level, message, params) => {
        let line = formatJsonMessage(globalThis[REQUEST_ID], new Date().toISOString(), level, message, ...params);
        line = line.replace(/\n/g, '\r');
        process.stdout.write(line + '\n');
      }
    : (level, message, params) => {
        let line = `${new Date().toISOString()}\t${globalThis[REQUEST_ID]}\t${level}\t${util.format(message, ...params)}`;
        line = line.replace(/\n/g, '\r');
        process.stdout.write(line + '\n');
      };
  const levels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'];
  const min = Math.max(0, levels.indexOf((process.env.AWS_LAMBDA_LOG_LEVEL || '').toUpperCase()));
  const nop = () => {};
  const make = (level) => (levels.indexOf(level) >= min ? (msg, ...params) => write(level, msg, params) : nop);
  console.trace = make('TRACE');
  console.debug = make('DEBUG');
  console.info = make('INFO');
  console.log = console.info;
  console.warn = make('WARN');
  console.error = make('ERROR');
  console.fatal = (msg, ...params) => write('FATAL', msg, params);
}

function logError(msg, err) {
  if (LOG_FORMAT_JSON) {
    console.error(intoError(err));
  } else {
    console.error(msg, toFormatted(intoError(err)));
  }
}

// ------------------------------------------------------------------ Runtime API client

class RAPIDClient {
  constructor(hostnamePort) {
    const i = hostnamePort.lastIndexOf(':');
    this.hostname = hostnamePort.slice(0, i).replace(/^\[|\]$/g, '');
    this.port = parseInt(hostnamePort.slice(i + 1), 10);
    this.agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  }

  nextInvocation() {
    return new Promise((resolve, reject) => {
      const req = http.request(
        {
          hostname: this.hostname,
          port: this.port,
          path: '/2018-06-01/runtime/invocation/next',
          method: 'GET',
          agent: this.agent,
        },
        (res) => {
          let data = '';
          res.setEncoding('utf-8');
          res.on('data', (chunk) => (data += chunk));
          res.on('end', () => {
            if (res.statusCode !== 200) {
              reject(new Error(`Failed to get next invocation: status ${res.statusCode}: ${data}`));
              return;
            }
            resolve({ bodyJson: data, headers: res.headers });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  postInvocationResponse(response, id, callback) {
    const body = trySerialize(response);
    this._post(`/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`, body, {}, callback);
  }

  postInvocationError(error, id, callback) {
    const body = trySerialize(toRapidResponse(error));
    this._post(`/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/error`, body, {}, callback);
  }

  postInitError(error, callback) {
    const response = toRapidResponse(error);
    this._post(
      '/2018-06-01/runtime/init/error',
      trySerialize(response),
      { 'Lambda-Runtime-Function-Error-Type': response.errorType },
      callback,
    );
  }

  _post(p, body, headers, callback) {
    const req = http.request(
      {
        hostname: this.hostname,
        port: this.port,
        path: p,
        method: 'POST',
        headers: Object.assign(
          { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
          headers,
        ),
        agent: this.agent,
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          if (res.statusCode >= 500) {
            // The platform failed; like AWS's client, give up so the
            // environment is reset.
            throw new Error(`Runtime API ${p} answered ${res.statusCode}`);
          }
          callback();
        });
        res.on('error', (e) => {
          throw e;
        });
      },
    );
    req.on('error', (e) => {
      throw e;
    });
    req.end(body, 'utf-8');
  }
}

function trySerialize(body) {
  try {
    return JSON.stringify(body === undefined ? null : body);
  } catch (_err) {
    throw new Error('Unable to stringify response body');
  }
}

// ------------------------------------------------------------------ response streaming

const HANDLER_STREAMING = Symbol.for('aws.lambda.runtime.handler.streaming');
const HANDLER_HIGHWATERMARK = Symbol.for('aws.lambda.runtime.handler.streaming.highWaterMark');
const STREAM_RESPONSE = 'response';
const HTTP_INTEGRATION_CONTENT_TYPE = 'application/vnd.awslambda.http-integration-response';

class HttpResponseStream {
  // from makes underlyingStream an HTTP integration response (function
  // URLs): a JSON prelude and 8 NUL bytes precede the body.
  static from(underlyingStream, prelude) {
    underlyingStream.setContentType(HTTP_INTEGRATION_CONTENT_TYPE);
    const metadataPrelude = JSON.stringify(prelude);
    underlyingStream._onBeforeFirstWrite = (write) => {
      write(metadataPrelude);
      write(new Uint8Array(8));
    };
    return underlyingStream;
  }
}

function installGlobalAwsLambda() {
  const v = process.env.AWS_LAMBDA_NODEJS_NO_GLOBAL_AWSLAMBDA;
  if (v === '1' || v === 'true') {
    return;
  }
  globalThis.awslambda = {
    streamifyResponse: (handler, options) => {
      handler[HANDLER_STREAMING] = STREAM_RESPONSE;
      if (typeof options?.highWaterMark === 'number') {
        handler[HANDLER_HIGHWATERMARK] = parseInt(options.highWaterMark);
      }
      return handler;
    },
    HttpResponseStream,
  };
}

function isHandlerStreaming(handler) {
  const mode = handler[HANDLER_STREAMING];
  if (mode === undefined || mode === null || mode === false) {
    return false;
  }
  if (mode === STREAM_RESPONSE) {
    return true;
  }
  throw new MalformedStreamingHandler('Only response streaming is supported.');
}

const failProps = new WeakMap();

// createResponseStream opens the streaming POST /response: the returned
// writable (a restricted view of the request) sends chunks as written; a
// failure after the first byte is reported in the error trailers.
function createResponseStream(client, id) {
  let started = false;
  let responseDoneResolve, responseDoneReject;
  const responseDone = new Promise((resolve, reject) => {
    responseDoneResolve = resolve;
    responseDoneReject = reject;
  });
  const req = http.request(
    {
      hostname: client.hostname,
      port: client.port,
      path: `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`,
      method: 'POST',
      headers: {
        'Lambda-Runtime-Function-Response-Mode': 'streaming',
        Trailer: ['Lambda-Runtime-Function-Error-Type', 'Lambda-Runtime-Function-Error-Body'],
        'Content-Type': 'application/octet-stream',
      },
      agent: client.agent,
    },
    (res) => {
      res.on('data', () => {});
      res.on('aborted', (err) => {
        responseDoneReject(err);
        req.destroy(err);
      });
      res.on('end', () => responseDoneResolve(res.statusCode));
    },
  );
  req.on('error', (err) => {
    responseDoneReject(err);
    req.destroy(err);
  });
  req.setContentType = (contentType) => {
    if (started) {
      throw new InvalidStreamingOperation('Cannot set content-type, too late.');
    }
    req.setHeader('Content-Type', contentType);
  };
  const origWrite = req.write.bind(req);
  req.write = function (chunk, encoding, callback) {
    if (typeof chunk !== 'string' && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) {
      chunk = JSON.stringify(chunk);
    }
    if (!started && typeof this._onBeforeFirstWrite === 'function') {
      this._onBeforeFirstWrite((ch) => origWrite(ch));
    }
    started = true;
    return origWrite(chunk, encoding, callback);
  };
  const origEnd = req.end.bind(req);
  req.end = function (chunk, encoding, callback) {
    if (typeof chunk === 'function') {
      return origEnd(chunk);
    }
    if (chunk !== undefined && chunk !== null) {
      req.write(chunk, encoding);
    } else if (!started && typeof this._onBeforeFirstWrite === 'function') {
      this._onBeforeFirstWrite((ch) => origWrite(ch));
      started = true;
    }
    return origEnd(callback);
  };

  const fns = ['cork', 'destroy', 'end', 'uncork', 'write', 'addListener', 'emit', 'eventNames', 'getMaxListeners',
    'listenerCount', 'listeners', 'off', 'on', 'once', 'prependListener', 'prependOnceListener', 'rawListeners',
    'removeAllListeners', 'removeListener', 'setMaxListeners', 'setContentType'];
  const stream = Object.fromEntries(fns.map((fn) => [fn, req[fn].bind(req)]));
  for (const prop of ['destroyed', 'writable', '_onBeforeFirstWrite']) {
    Object.defineProperty(stream, prop, { get: () => req[prop], set: (v) => (req[prop] = v) });
  }
  for (const prop of ['writableFinished', 'writableObjectMode', 'writableBuffer', 'writableEnded',
    'writableNeedDrain', 'writableHighWaterMark', 'writableCorked', 'writableLength']) {
    Object.defineProperty(stream, prop, { get: () => req[prop] });
  }
  failProps.set(stream, (err, callback) => {
    const error = toRapidResponse(err);
    req.addTrailers({
      'Lambda-Runtime-Function-Error-Type': error.errorType,
      'Lambda-Runtime-Function-Error-Body': Buffer.from(JSON.stringify(error)).toString('base64'),
    });
    origEnd(callback);
  });
  return { responseStream: stream, responseDone };
}

// ------------------------------------------------------------------ user function

const FUNCTION_EXPR = /^([^.]*)\.(.*)$/;

function moduleRootAndHandler(full) {
  const handlerString = path.basename(full);
  return [full.substring(0, full.indexOf(handlerString)), handlerString];
}

function splitHandlerString(handler) {
  const match = handler.match(FUNCTION_EXPR);
  if (!match || match.length != 3) {
    throw new MalformedHandlerName('Bad handler');
  }
  return [match[1], match[2]];
}

function resolveHandler(object, nested) {
  return nested.split('.').reduce((o, key) => o && o[key], object);
}

function tryRequireFile(file, ext) {
  const p = file + (ext || '');
  return fs.existsSync(p) ? require(p) : undefined;
}

async function tryAwaitImport(file, ext) {
  const p = file + (ext || '');
  if (fs.existsSync(p)) {
    return await import(require('url').pathToFileURL(p).href);
  }
  return undefined;
}

function hasFolderPackageJsonTypeModule(folder) {
  if (folder.endsWith('/node_modules')) {
    return false;
  }
  const pj = path.join(folder, '/package.json');
  if (fs.existsSync(pj)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(pj));
      if (pkg) {
        return pkg.type === 'module';
      }
    } catch (e) {
      console.warn(`${pj} cannot be read, it will be ignored for ES module detection purposes.`, e);
      return false;
    }
  }
  if (folder === '/') {
    return false;
  }
  return hasFolderPackageJsonTypeModule(path.resolve(folder, '..'));
}

async function tryRequire(appRoot, moduleRoot, module) {
  const lambdaStylePath = path.resolve(appRoot, moduleRoot, module);

  const extensionless = tryRequireFile(lambdaStylePath);
  if (extensionless) {
    return extensionless;
  }
  const pjHasModule = hasFolderPackageJsonTypeModule(path.resolve(path.dirname(lambdaStylePath)));
  if (!pjHasModule) {
    const loaded = tryRequireFile(lambdaStylePath, '.js');
    if (loaded) {
      return loaded;
    }
  }
  const loaded =
    (pjHasModule && (await tryAwaitImport(lambdaStylePath, '.js'))) ||
    (await tryAwaitImport(lambdaStylePath, '.mjs')) ||
    tryRequireFile(lambdaStylePath, '.cjs');
  if (loaded) {
    return loaded;
  }
  const nodeStylePath = require.resolve(module, { paths: [appRoot, moduleRoot] });
  return require(nodeStylePath);
}

async function loadUserApp(appRoot, moduleRoot, module) {
  try {
    return await tryRequire(appRoot, moduleRoot, module);
  } catch (e) {
    if (e instanceof SyntaxError) {
      throw new UserCodeSyntaxError(e);
    } else if (e.code !== undefined && e.code === 'MODULE_NOT_FOUND') {
      throw new ImportModuleError(e);
    }
    throw e;
  }
}

async function loadHandler(appRoot, full) {
  if (full.includes('..')) {
    throw new MalformedHandlerName(
      `'${full}' is not a valid handler name. Use absolute paths when specifying root directories in handler names.`,
    );
  }
  const [moduleRoot, moduleAndHandler] = moduleRootAndHandler(full);
  const [module, handlerPath] = splitHandlerString(moduleAndHandler);
  const userApp = await loadUserApp(appRoot, moduleRoot, module);
  const handlerFunc = resolveHandler(userApp, handlerPath);
  if (!handlerFunc) {
    throw new HandlerNotFound(`${full} is undefined or not exported`);
  }
  if (typeof handlerFunc !== 'function') {
    throw new HandlerNotFound(`${full} is not a function`);
  }
  return handlerFunc;
}

// ------------------------------------------------------------------ invoke loop

const BEFORE_EXIT = Symbol.for('aws.lambda.beforeExit');
const NO_OP = () => {};
const beforeExit = {
  invoke: () => globalThis[BEFORE_EXIT](),
  reset: () => (globalThis[BEFORE_EXIT] = NO_OP),
  set: (listener) => (globalThis[BEFORE_EXIT] = listener),
};

function buildCallbackContext(client, id, scheduleNext) {
  const postError = (err, cb) => {
    logError('Invoke Error', err);
    client.postInvocationError(err, id, cb);
  };
  let isCompleteInvoked = false;
  const complete = (result, cb) => {
    if (isCompleteInvoked) {
      console.error(
        'Invocation has already been reported as done. Cannot call complete more than once per invocation.',
      );
      return;
    }
    isCompleteInvoked = true;
    client.postInvocationResponse(result, id, cb);
  };
  let waitForEmptyEventLoop = true;

  const callback = function (err, result) {
    beforeExit.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else if (!waitForEmptyEventLoop) {
      complete(result, scheduleNext);
    } else {
      beforeExit.set(() => {
        setImmediate(() => complete(result, scheduleNext));
      });
    }
  };
  const done = (err, result) => {
    beforeExit.reset();
    if (err !== undefined && err !== null) {
      postError(err, scheduleNext);
    } else {
      complete(result, scheduleNext);
    }
  };
  const succeed = (result) => done(null, result);
  const fail = (err) => (err === undefined || err === null ? done('handled') : done(err, null));

  const context = {
    get callbackWaitsForEmptyEventLoop() {
      return waitForEmptyEventLoop;
    },
    set callbackWaitsForEmptyEventLoop(value) {
      waitForEmptyEventLoop = value;
    },
    succeed,
    fail,
    done,
  };

  // Only the first call of any completion function counts.
  let finished = false;
  const once = (fn) =>
    function () {
      if (!finished) {
        fn.apply(null, arguments);
        finished = true;
      }
    };
  context.succeed = once(context.succeed);
  context.fail = once(context.fail);
  context.done = once(context.done);
  return [once(callback), context, () => (isCompleteInvoked = true)];
}

function parseJsonHeader(value, name) {
  if (value === undefined) {
    return undefined;
  }
  try {
    return JSON.parse(value);
  } catch (err) {
    throw new Error(`Cannot parse ${name} as json: ${err.toString()}`);
  }
}

function attachContext(callbackContext, headers) {
  if (headers['lambda-runtime-trace-id']) {
    process.env._X_AMZN_TRACE_ID = headers['lambda-runtime-trace-id'];
  } else {
    delete process.env._X_AMZN_TRACE_ID;
  }
  const deadline = headers['lambda-runtime-deadline-ms'];
  return Object.assign(
    callbackContext,
    {
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    },
    {
      clientContext: parseJsonHeader(headers['lambda-runtime-client-context'], 'ClientContext'),
      identity: parseJsonHeader(headers['lambda-runtime-cognito-identity'], 'CognitoIdentity'),
      invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
      awsRequestId: headers['lambda-runtime-aws-request-id'],
      tenantId: headers['lambda-runtime-aws-tenant-id'],
      getRemainingTimeInMillis: function () {
        return deadline - Date.now();
      },
    },
  );
}

function isPromise(obj) {
  return obj && obj.then && typeof obj.then === 'function';
}

class Runtime {
  constructor(client, handler, errorCallbacks) {
    this.client = client;
    this.handler = handler;
    this.errorCallbacks = errorCallbacks;
    this.streaming = isHandlerStreaming(handler);
    this.isAsync = handler.constructor?.name === 'AsyncFunction';
  }

  _setErrorCallbacks(invokeId) {
    this.errorCallbacks.uncaughtException = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(129));
    };
    this.errorCallbacks.unhandledRejection = (error) => {
      this.client.postInvocationError(error, invokeId, () => process.exit(128));
    };
  }

  // handleOnceStreaming runs a streamifyResponse handler:
  // handler(event, responseStream, context), which must return a promise
  // and end the stream.
  async handleOnceStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeId = headers['lambda-runtime-aws-request-id'];
    if (!invokeId) {
      throw new Error('invocation id is missing or invalid');
    }
    globalThis[REQUEST_ID] = invokeId;

    let waitForEmptyEventLoop = true;
    const scheduleNext = () => {
      beforeExit.reset();
      if (!waitForEmptyEventLoop) {
        this.scheduleIteration();
      } else {
        beforeExit.set(() => setImmediate(() => this.scheduleIteration()));
      }
    };
    const context = {
      get callbackWaitsForEmptyEventLoop() {
        return waitForEmptyEventLoop;
      },
      set callbackWaitsForEmptyEventLoop(value) {
        waitForEmptyEventLoop = value;
      },
    };
    const { responseStream, responseDone } = createResponseStream(this.client, invokeId);
    const fail = (err, cb) => {
      logError('Invoke Error', err);
      failProps.get(responseStream)(err, cb);
    };
    try {
      this._setErrorCallbacks(invokeId);
      beforeExit.set(() => this.scheduleIteration());
      const ctx = attachContext(context, headers);
      const result = this.handler(JSON.parse(bodyJson), responseStream, ctx);
      if (!isPromise(result)) {
        fail('Streaming does not support non-async handlers.', scheduleNext);
        return;
      }
      const value = await result;
      if (typeof value !== 'undefined') {
        console.warn('Streaming handlers ignore return values.');
      }
      // (aws-lambda-ric awaits the POST's answer first, which never comes
      // for a stream left open: it would hang until the timeout.)
      if (!responseStream.writableEnded) {
        fail('Response stream is not finished.', scheduleNext);
        return;
      }
      await responseDone;
      scheduleNext();
    } catch (err) {
      fail(err, scheduleNext);
    }
  }

  scheduleIteration() {
    setImmediate(() => {
      (this.streaming ? this.handleOnceStreaming() : this.handleOnceNonStreaming()).then(
        () => {},
        (err) => {
          console.log(`Unexpected Top Level Error: ${err.toString()}`);
          this.errorCallbacks.uncaughtException(err);
        },
      );
    });
  }

  // handleOnceNonStreaming waits for the next invocation and runs the
  // handler (named as in aws-lambda-ric, which shows in stack traces).
  async handleOnceNonStreaming() {
    const { bodyJson, headers } = await this.client.nextInvocation();
    const invokeId = headers['lambda-runtime-aws-request-id'];
    if (!invokeId) {
      throw new Error('invocation id is missing or invalid');
    }
    globalThis[REQUEST_ID] = invokeId;

    const [callback, callbackContext, markCompleted] = buildCallbackContext(
      this.client,
      invokeId,
      this.scheduleIteration.bind(this),
    );
    try {
      this._setErrorCallbacks(invokeId);
      // When the event loop empties before the handler finished: an async
      // handler whose promise never settled fails with Runtime.NodeJsExit
      // (Node 18+); any other handler that never called back finishes with
      // a null result.
      beforeExit.set(() => {
        markCompleted();
        if (this.isAsync) {
          const err = new NodeJsExit();
          logError('Invoke Error', err);
          this.client.postInvocationError(err, invokeId, () => this.scheduleIteration());
        } else {
          this.client.postInvocationResponse(null, invokeId, () => this.scheduleIteration());
        }
      });

      const result = this.handler(JSON.parse(bodyJson), attachContext(callbackContext, headers), callback);
      if (isPromise(result)) {
        result.then(callbackContext.succeed, callbackContext.fail).catch(callbackContext.fail);
      }
    } catch (err) {
      callback(err);
    }
  }
}

async function main() {
  patchConsole();
  const address = process.env.AWS_LAMBDA_RUNTIME_API;
  if (!address) {
    process.stderr.write('expected AWS Lambda environment variables [AWS_LAMBDA_RUNTIME_API] are not defined\n');
    process.exit(1);
  }
  const client = new RAPIDClient(address);

  const errorCallbacks = {
    uncaughtException: (error) => client.postInitError(error, () => process.exit(129)),
    unhandledRejection: (error) => client.postInitError(error, () => process.exit(128)),
  };
  process.on('uncaughtException', (error) => {
    logError('Uncaught Exception', error);
    errorCallbacks.uncaughtException(error);
  });
  process.on('unhandledRejection', (reason, promise) => {
    const error = new UnhandledPromiseRejection(reason, promise);
    logError('Unhandled Promise Rejection', error);
    errorCallbacks.unhandledRejection(error);
  });
  // AWS's client loads the function under a top-level await of its ES
  // module entry point: if loading never settles (a top-level await in the
  // function that never resolves), Node exits 13 once nothing is left to
  // run. Do the same rather than exit 0.
  beforeExit.set(() => {
    process.stderr.write('Warning: Detected unsettled top-level await while loading the function\n');
    process.exit(13);
  });
  process.on('beforeExit', beforeExit.invoke);

  installGlobalAwsLambda();
  const appRoot = process.env.LAMBDA_TASK_ROOT || process.cwd();
  const handler = await loadHandler(appRoot, process.env._HANDLER || '');
  beforeExit.reset();
  if (NODE_RUNTIME_MAJOR >= 24 && handler.length >= 3 && !isHandlerStreaming(handler)) {
    throw new CallbackHandlerDeprecated(
      'ERROR: AWS Lambda has removed support for callback-based function handlers starting with Node.js 24. You need to modify this function to use a supported handler signature to use Node.js 24 or later. For more information see https://docs.aws.amazon.com/lambda/latest/dg/nodejs-handler.html.',
    );
  }
  new Runtime(client, handler, errorCallbacks).scheduleIteration();
}

main().catch((error) => {
  // What an uncaught exception during INIT does on AWS (the nodejs24.x
  // client labels the log line "Init Error").
  logError(NODE_RUNTIME_MAJOR >= 24 ? 'Init Error' : 'Uncaught Exception', error);
  globalThis[BEFORE_EXIT] = NO_OP;
  new RAPIDClient(process.env.AWS_LAMBDA_RUNTIME_API).postInitError(error, () => process.exit(129));
});
