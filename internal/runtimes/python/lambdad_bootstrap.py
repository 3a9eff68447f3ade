"""lambdad runtime client for the python3.x managed runtimes.

A Runtime API 2018-06-01 client written against the standard library only,
behaving like AWS's awslambdaric: it resolves _HANDLER ("pkg/sub/module.func")
from LAMBDA_TASK_ROOT, reports init failures to /runtime/init/error with AWS's
error types and messages, then loops on /runtime/invocation/next, calls the
handler with the JSON-decoded event and a LambdaContext, and posts the
JSON-encoded result or an {errorMessage, errorType, requestId, stackTrace}
body.

It talks HTTP/1.1 over one keep-alive raw socket (_socket, not http.client,
which imports ssl and email and would double the cold start), decodes and
encodes JSON with the _json accelerator directly (the json package imports
re), and configures the logging module only when something imports it.

bootstrap.py (the entry point) only imports this module and calls main(), so
that this module's bytecode, precompiled by lambdad into __pycache__, is
loaded instead of being compiled at every cold start.

argv: bootstrap.py <opt dir>   (the merged layers as seen by this process)
"""

import os
import sys
import time
import _socket
import _json

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__))
_OPT_DIR = sys.argv[1] if len(sys.argv) > 1 else "/opt"
sys.argv = sys.argv[:1]

ERROR_LOG_LINE_TERMINATE = "\r"
ERROR_LOG_IDENT = "\u00a0"

MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"
LAMBDA_CONTEXT_UNMARSHAL_ERROR = "Runtime.LambdaContextUnmarshalError"

LAMBDA_WARNING_UNHANDLED = (
    "LAMBDA_WARNING: Unhandled exception. "
    "The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. "
    "To determine if the runtime has been updated, check the runtime version in the INIT_START log entry. "
    "If this error correlates with a change in the runtime version, you may be able to mitigate this "
    "error by temporarily rolling back to the previous runtime version. "
    "For more information, see https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html"
)

_GLOBAL_AWS_REQUEST_ID = None
_GLOBAL_TENANT_ID = None

# LoggingConfig: AWS_LAMBDA_LOG_FORMAT=JSON switches the logging module and
# the runtime's own error lines to JSON; AWS_LAMBDA_LOG_LEVEL sets the root
# logger's level (TRACE meaning DEBUG), as awslambdaric does.
_LOG_FORMAT_JSON = (os.environ.get("AWS_LAMBDA_LOG_FORMAT") or "").upper() == "JSON"
_LOG_LEVEL = {None: "", "TRACE": "DEBUG"}.get(
    os.environ.get("AWS_LAMBDA_LOG_LEVEL"), os.environ.get("AWS_LAMBDA_LOG_LEVEL")
).upper()


class FaultException(Exception):
    def __init__(self, exception_type, msg, trace=None):
        self.msg = msg
        self.exception_type = exception_type
        self.trace = trace


# ---------------------------------------------------------------- sys.path


def _setup_sys_path():
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    ver = "python%d.%d" % sys.version_info[:2]
    front = [
        task_root,
        os.path.join(_OPT_DIR, "python", "lib", ver, "site-packages"),
        os.path.join(_OPT_DIR, "python"),
        _RUNTIME_DIR,
    ]
    rest = [p for p in sys.path if p not in front and p != ""]
    sys.path[:] = front + rest


# ---------------------------------------------------------------- output


class Unbuffered(object):
    def __init__(self, stream):
        self.stream = stream

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        pass

    def __getattr__(self, attr):
        return getattr(self.stream, attr)

    def write(self, msg):
        self.stream.write(msg)
        self.stream.flush()

    def writelines(self, msgs):
        self.stream.writelines(msgs)
        self.stream.flush()


def _log(msg):
    sys.stdout.write(msg)


def _timestamp():
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%03dZ" % (
        int(now * 1000) % 1000
    )


def _replace_line_indentation(line, indent_char, new_indent_char):
    n = 0
    for c in line:
        if c != indent_char:
            break
        n += 1
    return (new_indent_char * n) + line[n:]


def log_error(error_result):
    if _LOG_FORMAT_JSON:
        line = dict(timestamp=time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), level="ERROR")
        line.update(error_result)
        _log(to_json(line) + "\n")
        return
    description = "[ERROR]"
    etype = error_result.get("errorType")
    if etype:
        description += " " + etype
    emsg = error_result.get("errorMessage")
    if emsg:
        if etype:
            description += ":"
        description += " " + emsg
    lines = [description]
    stack_trace = error_result.get("stackTrace")
    if stack_trace is not None:
        lines.append("Traceback (most recent call last):")
        for element in stack_trace:
            if element == "":
                lines.append("")
            else:
                for line in element.splitlines():
                    lines.append(_replace_line_indentation(line, " ", ERROR_LOG_IDENT))
    _log(ERROR_LOG_LINE_TERMINATE.join(lines) + "\n")


def _log_warning(msg):
    # What logging.warning() prints through the runtime's root handler.
    if _LOG_FORMAT_JSON:
        line = {
            "timestamp": _timestamp(),
            "level": "WARNING",
            "message": msg,
            "logger": "root",
            "requestId": _GLOBAL_AWS_REQUEST_ID or "",
        }
        _log(_to_json_unicode(line) + "\n")
        return
    _log("[WARNING]\t%s\t%s\t%s\n" % (_timestamp(), _GLOBAL_AWS_REQUEST_ID or "", msg))


# ---------------------------------------------------------------- logging


class _LoggingConfigurer(object):
    """Configures the logging module the moment anything imports it.

    awslambdaric installs its root handler at start-up; doing it on import
    is indistinguishable for user code and keeps `import logging` (about
    3 ms) off the cold start of functions that never log."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        spec = None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module

        def exec_and_configure(module):
            exec_module(module)
            _configure_logging(module)

        spec.loader.exec_module = exec_and_configure
        return spec

    def invalidate_caches(self):
        pass


_RESERVED_RECORD_FIELDS = {
    "name",
    "msg",
    "args",
    "levelname",
    "levelno",
    "pathname",
    "filename",
    "module",
    "exc_info",
    "exc_text",
    "stack_info",
    "lineno",
    "funcName",
    "created",
    "msecs",
    "relativeCreated",
    "thread",
    "threadName",
    "processName",
    "process",
    "aws_request_id",
    "tenant_id",
    "_frame_type",
}


def _configure_logging(logging):
    class LambdaLoggerHandler(logging.Handler):
        def emit(self, record):
            try:
                _log(self.format(record))
            except Exception:
                self.handleError(record)

    class LambdaLoggerFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = _GLOBAL_AWS_REQUEST_ID or ""
            record.tenant_id = _GLOBAL_TENANT_ID
            return True

    class JsonFormatter(logging.Formatter):
        """awslambdaric's JSON log line: timestamp, level, message, logger,
        the exception if any, requestId, location and extra fields."""

        def formatTime(self, record, datefmt=None):
            t = time.gmtime(record.created)
            return time.strftime("%Y-%m-%dT%H:%M:%S", t) + ".%03dZ" % (int(record.created * 1000) % 1000)

        def format(self, record):
            record.levelno = min(50, max(0, record.levelno)) // 10 * 10
            record.levelname = logging.getLevelName(record.levelno)
            exc = record.exc_info
            if exc:
                import traceback

                stack = traceback.format_tb(exc[2])
            result = {
                "timestamp": self.formatTime(record),
                "level": record.levelname,
                "message": record.getMessage(),
                "logger": record.name,
                "stackTrace": stack if exc else None,
                "errorType": exc[0].__name__ if exc else None,
                "errorMessage": str(exc[1]) if exc else None,
                "requestId": getattr(record, "aws_request_id", None),
                "location": "%s:%s:%s" % (record.pathname, record.funcName, record.lineno) if exc else None,
            }
            if getattr(record, "tenant_id", None) is not None:
                result["tenantId"] = record.tenant_id
            result.update(
                (k, v) for k, v in record.__dict__.items() if k not in _RESERVED_RECORD_FIELDS and k not in result
            )
            result = {k: v for k, v in result.items() if v is not None}
            return _to_json_unicode(result) + "\n"

    logging.Formatter.converter = time.gmtime
    handler = LambdaLoggerHandler()
    if _LOG_FORMAT_JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(
                "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
                "%Y-%m-%dT%H:%M:%S",
            )
        )
    handler.addFilter(LambdaLoggerFilter())
    if _LOG_LEVEL in logging._nameToLevel:
        logging.getLogger().setLevel(_LOG_LEVEL)
    logging.getLogger().addHandler(handler)


def _setup_logging():
    if "logging" in sys.modules:
        _configure_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingConfigurer())


# ---------------------------------------------------------------- JSON


class _DecodeContext(object):
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    memo = None

    @staticmethod
    def parse_constant(name):
        return {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}[name]


_scan = _json.make_scanner(_DecodeContext())
_WS = " \t\n\r"


def json_loads(data):
    if isinstance(data, (bytes, bytearray)):
        try:
            s = data.decode("utf-8")
        except UnicodeDecodeError:
            s = None
    else:
        s = data
    if s is not None:
        idx = len(s) - len(s.lstrip(_WS))
        try:
            obj, end = _scan(s, idx)
        except StopIteration:
            obj, end = None, -1
        except Exception:
            obj, end = None, -1
        if end >= 0 and not s[end:].strip(_WS):
            return obj
    # Slow path for anything unusual: the json package produces the exact
    # error messages (and detects UTF-16/32 input).
    import json

    return json.loads(data)


def _make_encoder(ensure_ascii):
    raw = {}

    def default(o):
        cls = o.__class__
        if cls.__name__ == "Decimal" and cls.__module__ in ("decimal", "_decimal", "_pydecimal"):
            if o.is_nan():
                return float("nan")
            key = "\x00lambdad-decimal-%d\x00" % len(raw)
            raw[key] = str(o)
            return key
        raise TypeError("Object of type %s is not JSON serializable" % cls.__name__)

    basestring = _json.encode_basestring_ascii if ensure_ascii else _json.encode_basestring

    def encode(o):
        raw.clear()
        enc = _json.make_encoder({}, default, basestring, None, ": ", ", ", False, False, True)
        out = "".join(enc(o, 0))
        for key, text in raw.items():
            out = out.replace(basestring(key), text)
        return out

    return encode


# awslambdaric keeps non-ASCII characters only on python3.12.
_to_json = _make_encoder(os.environ.get("AWS_EXECUTION_ENV") != "AWS_Lambda_python3.12")


def to_json(obj):
    return _to_json(obj)


def _to_json_unicode(obj):
    # The JSON log formatter's encoder: stdlib json, ensure_ascii=False;
    # objects it cannot encode fail the log call as they do on AWS.
    import json

    return json.JSONEncoder(ensure_ascii=False).encode(obj)


# ---------------------------------------------------------------- HTTP


class RuntimeAPIError(Exception):
    pass


class HTTPConnection(object):
    """A minimal HTTP/1.1 client on one keep-alive socket."""

    def __init__(self, address):
        host, _, port = address.rpartition(":")
        self.host = host.strip("[]")
        self.port = int(port)
        self.address = address
        self.sock = None
        self.buf = b""
        self.received = False

    def _connect(self):
        host = self.host
        if host.isascii():
            # getaddrinfo runs a str through the idna codec, which imports
            # re and stringprep: ~9 ms of a ~25 ms cold start.
            host = host.encode("ascii")
        infos = _socket.getaddrinfo(host, self.port, 0, _socket.SOCK_STREAM)
        family, socktype, proto, _, sockaddr = infos[0]
        sock = _socket.socket(family, socktype, proto)
        try:
            sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            sock.connect(sockaddr)
        except BaseException:
            sock.close()
            raise
        self.sock = sock
        self.buf = b""

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None
        self.buf = b""

    def request(self, method, path, body=b"", headers=None):
        head = "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: lambdad-python\r\n" % (method, path, self.address)
        if headers:
            for k, v in headers.items():
                head += "%s: %s\r\n" % (k, v)
        if method != "GET" or body:
            head += "Content-Length: %d\r\n" % len(body)
        msg = head.encode("latin-1", "replace") + b"\r\n" + body
        reused = self.sock is not None
        if not reused:
            self._connect()
        self.received = False
        try:
            self.sock.sendall(msg)
            return self._read_response()
        except (ConnectionError, RuntimeAPIError):
            # A kept-alive connection the server closed while idle (nothing
            # of the response arrived): retry once on a fresh one. Anything
            # else is fatal, as in AWS's client.
            self.close()
            if not reused or self.received:
                raise
            self._connect()
            self.sock.sendall(msg)
            return self._read_response()

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise RuntimeAPIError("connection closed by the Runtime API")
        self.received = True
        self.buf += data

    def _read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = self.buf[:i]
                self.buf = self.buf[i + 2 :]
                return line
            self._fill()

    def _read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data = self.buf[:n]
        self.buf = self.buf[n:]
        return data

    def _read_response(self):
        status_line = self._read_line()
        parts = status_line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
            raise RuntimeAPIError("malformed status line %r" % status_line)
        status = int(parts[1])
        headers = {}
        while True:
            line = self._read_line()
            if not line:
                break
            k, _, v = line.partition(b":")
            headers[k.strip().decode("latin-1").lower()] = v.strip().decode("latin-1")
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self._read_line().split(b";", 1)[0], 16)
                if size == 0:
                    while self._read_line():
                        pass
                    break
                chunks.append(self._read_exact(size))
                self._read_exact(2)
            body = b"".join(chunks)
        elif "content-length" in headers:
            body = self._read_exact(int(headers["content-length"]))
        else:
            body = b""
        if headers.get("connection", "").lower() == "close":
            self.close()
        return status, headers, body


class LambdaRuntimeClient(object):
    def __init__(self, address):
        self.conn = HTTPConnection(address)
        self.prefix = "/2018-06-01/runtime"

    def post_init_error(self, error_result):
        status, _, body = self.conn.request(
            "POST",
            self.prefix + "/init/error",
            to_json(error_result).encode("utf-8"),
            {
                "Content-Type": "application/json",
                "Lambda-Runtime-Function-Error-Type": error_result["errorType"],
            },
        )
        if status != 202:
            raise RuntimeAPIError(
                "Request to Lambda Runtime 'init/error' endpoint failed. Reason: '%d'. Response body: '%s'"
                % (status, body.decode("utf-8", "replace"))
            )

    def wait_next_invocation(self):
        status, headers, body = self.conn.request("GET", self.prefix + "/invocation/next")
        if status != 200:
            raise RuntimeAPIError(
                "Request to Lambda Runtime 'next' endpoint failed. Reason: '%d'. Response body: '%s'"
                % (status, body.decode("utf-8", "replace"))
            )
        return headers, body

    def _post(self, invoke_id, what, body, headers):
        status, _, resp = self.conn.request(
            "POST", "%s/invocation/%s/%s" % (self.prefix, invoke_id, what), body, headers
        )
        if status >= 500:
            # The platform failed: AWS's client gives up and the process
            # exits, which resets the environment.
            raise RuntimeAPIError(
                "Request to Lambda Runtime '%s' endpoint failed. Reason: '%d'. Response body: '%s'"
                % (what, status, resp.decode("utf-8", "replace"))
            )

    def post_invocation_result(self, invoke_id, result, content_type):
        if not isinstance(result, (bytes, bytearray)):
            result = result.encode("utf-8")
        self._post(invoke_id, "response", bytes(result), {"Content-Type": content_type})

    def post_invocation_error(self, invoke_id, error_json, xray_fault):
        headers = {"Content-Type": "application/json"}
        if xray_fault and len(xray_fault.encode("utf-8")) < 1024 * 1024:
            headers["Lambda-Runtime-Function-XRay-Error-Cause"] = xray_fault
        self._post(invoke_id, "error", error_json.encode("utf-8"), headers)


# ---------------------------------------------------------------- context


class CognitoIdentity(object):
    __slots__ = ["cognito_identity_id", "cognito_identity_pool_id"]

    def __repr__(self):
        return "%s([cognito_identity_id=%s,cognito_identity_pool_id=%s])" % (
            self.__class__.__name__,
            self.cognito_identity_id,
            self.cognito_identity_pool_id,
        )


class Client(object):
    __slots__ = [
        "installation_id",
        "app_title",
        "app_version_name",
        "app_version_code",
        "app_package_name",
    ]

    def __repr__(self):
        return "%s([%s])" % (
            self.__class__.__name__,
            ",".join("%s=%s" % (f, getattr(self, f)) for f in self.__slots__),
        )


class ClientContext(object):
    __slots__ = ["custom", "env", "client"]

    def __repr__(self):
        return "%s([custom=%s,env=%s,client=%s])" % (
            self.__class__.__name__,
            self.custom,
            self.env,
            self.client,
        )


def make_obj_from_dict(_class, _dict):
    if _dict is None:
        return None
    obj = _class()
    for field in _class.__slots__:
        setattr(obj, field, _dict.get(field, None))
    return obj


class LambdaContext(object):
    def __init__(
        self,
        invoke_id,
        client_context,
        cognito_identity,
        epoch_deadline_time_in_ms,
        invoked_function_arn=None,
        tenant_id=None,
    ):
        self.aws_request_id = invoke_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = tenant_id

        self.client_context = make_obj_from_dict(ClientContext, client_context)
        if self.client_context is not None:
            self.client_context.client = make_obj_from_dict(Client, self.client_context.client)

        self.identity = make_obj_from_dict(CognitoIdentity, {})
        if cognito_identity is not None:
            self.identity.cognito_identity_id = cognito_identity.get("cognitoIdentityId")
            self.identity.cognito_identity_pool_id = cognito_identity.get("cognitoIdentityPoolId")

        self._epoch_deadline_time_in_ms = epoch_deadline_time_in_ms

    def get_remaining_time_in_millis(self):
        delta_ms = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return delta_ms if delta_ms > 0 else 0

    def log(self, msg):
        sys.stdout.write(str(msg))

    def __repr__(self):
        return (
            "%s([aws_request_id=%s,log_group_name=%s,log_stream_name=%s,function_name=%s,"
            "memory_limit_in_mb=%s,function_version=%s,invoked_function_arn=%s,"
            "client_context=%s,identity=%s,tenant_id=%s])"
            % (
                self.__class__.__name__,
                self.aws_request_id,
                self.log_group_name,
                self.log_stream_name,
                self.function_name,
                self.memory_limit_in_mb,
                self.function_version,
                self.invoked_function_arn,
                self.client_context,
                self.identity,
                self.tenant_id,
            )
        )


def parse_json_header(header, name):
    try:
        return json_loads(header)
    except Exception as e:
        raise FaultException(
            LAMBDA_CONTEXT_UNMARSHAL_ERROR,
            "Unable to parse {} JSON: {}".format(name, str(e)),
            None,
        )


# ---------------------------------------------------------------- errors


def make_error(error_message, error_type, stack_trace, invoke_id=None):
    return {
        "errorMessage": error_message if error_message else "",
        "errorType": error_type if error_type else "",
        "requestId": invoke_id if invoke_id is not None else "",
        "stackTrace": stack_trace if stack_trace else [],
    }


def _user_frames(tb):
    import traceback

    tuples = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for i in range(len(tuples)):
        if "/bootstrap.py" not in tuples[i][0] and os.path.dirname(tuples[i][0]) != _RUNTIME_DIR:
            tuples = tuples[i:]
            break
    return tuples


def _format_frames(tuples):
    import traceback

    return traceback.format_list(tuples)


def build_fault_result(exc_info, msg):
    etype, value, tb = exc_info
    tuples = _user_frames(tb)
    return make_error(msg if msg else str(value), etype.__name__, _format_frames(tuples))


def make_xray_fault(ex_type, ex_msg, working_dir, tuples):
    stack = []
    files = []
    for tb_file, tb_line, tb_method, _ in tuples:
        stack.append({"label": tb_method, "path": tb_file, "line": tb_line})
        if tb_file not in files:
            files.append(tb_file)
    return {
        "working_directory": working_dir,
        "exceptions": [{"message": ex_msg, "type": ex_type, "stack": stack}],
        "paths": files,
    }


# ---------------------------------------------------------------- handler


def _get_handler(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as e:
        raise FaultException(MALFORMED_HANDLER_NAME, "Bad handler '{}': {}".format(handler, str(e)))

    try:
        if modname.split(".")[0] in sys.builtin_module_names:
            raise FaultException(
                BUILT_IN_MODULE_CONFLICT,
                "Cannot use built-in module {} as a handler module".format(modname),
            )
        import importlib

        m = importlib.import_module(modname.replace("/", "."))
    except ImportError as e:
        raise FaultException(
            IMPORT_MODULE_ERROR,
            "Unable to import module '{}': {}".format(modname, str(e)),
        )
    except SyntaxError as e:
        trace = ['  File "%s" Line %s\n    %s' % (e.filename, e.lineno, e.text)]
        raise FaultException(
            USER_CODE_SYNTAX_ERROR,
            "Syntax error in module '{}': {}".format(modname, str(e)),
            trace,
        )

    try:
        return getattr(m, fname)
    except AttributeError:
        raise FaultException(
            HANDLER_NOT_FOUND,
            "Handler '{}' missing on module '{}'".format(fname, modname),
            None,
        )


def marshal_response(response):
    if isinstance(response, bytes):
        return response, "application/unknown"
    try:
        return to_json(response), "application/json"
    except Exception as e:
        raise FaultException(MARSHAL_ERROR, "Unable to marshal response: {}".format(str(e)), None)


def unmarshal_request(body, content_type):
    if content_type != "application/json":
        return body
    try:
        return json_loads(body)
    except Exception as e:
        raise FaultException(UNMARSHAL_ERROR, "Unable to unmarshal input: {}".format(str(e)), None)


def handle_event_request(client, request_handler, invoke_id, headers, body):
    error_result = None
    xray_fault = None
    try:
        client_context = headers.get("lambda-runtime-client-context")
        cognito_identity = headers.get("lambda-runtime-cognito-identity")
        context = LambdaContext(
            invoke_id,
            parse_json_header(client_context, "Client Context") if client_context else None,
            parse_json_header(cognito_identity, "Cognito Identity") if cognito_identity else None,
            int(headers.get("lambda-runtime-deadline-ms") or 0),
            headers.get("lambda-runtime-invoked-function-arn"),
            headers.get("lambda-runtime-aws-tenant-id"),
        )
        event = unmarshal_request(body, headers.get("content-type"))
        response = request_handler(event, context)
        result, content_type = marshal_response(response)
    except FaultException as e:
        xray_fault = make_xray_fault("LambdaValidationError", e.msg, os.getcwd(), [])
        error_result = make_error(e.msg, e.exception_type, e.trace, invoke_id)
    except Exception:
        etype, value, tb = sys.exc_info()
        tuples = _user_frames(tb)
        xray_fault = make_xray_fault(etype.__name__, str(value), os.getcwd(), tuples)
        error_result = make_error(str(value), etype.__name__, _format_frames(tuples), invoke_id)

    if error_result is not None:
        log_error(error_result)
        try:
            xray = to_json(xray_fault)
        except Exception:
            xray = ""
        client.post_invocation_error(invoke_id, to_json(error_result), xray)
    else:
        client.post_invocation_result(invoke_id, result, content_type)


def main():
    global _GLOBAL_AWS_REQUEST_ID, _GLOBAL_TENANT_ID

    sys.stdout = Unbuffered(sys.stdout)
    sys.stderr = Unbuffered(sys.stderr)
    _setup_sys_path()

    address = os.environ.get("AWS_LAMBDA_RUNTIME_API")
    if not address:
        sys.stderr.write("expected AWS Lambda environment variables [AWS_LAMBDA_RUNTIME_API] are not defined\n")
        sys.exit(1)
    client = LambdaRuntimeClient(address)

    try:
        _setup_logging()
        request_handler = _get_handler(os.environ.get("_HANDLER", ""))
    except Exception as e:
        if isinstance(e, FaultException):
            error_result = make_error(e.msg, e.exception_type, e.trace)
        else:
            error_result = build_fault_result(sys.exc_info(), None)
        _log_warning(LAMBDA_WARNING_UNHANDLED)
        log_error(error_result)
        client.post_init_error(error_result)
        sys.exit(1)

    while True:
        headers, body = client.wait_next_invocation()
        invoke_id = headers.get("lambda-runtime-aws-request-id")
        _GLOBAL_AWS_REQUEST_ID = invoke_id
        _GLOBAL_TENANT_ID = headers.get("lambda-runtime-aws-tenant-id")
        trace_id = headers.get("lambda-runtime-trace-id")
        if trace_id is not None:
            os.environ["_X_AMZN_TRACE_ID"] = trace_id
        else:
            os.environ.pop("_X_AMZN_TRACE_ID", None)
        handle_event_request(client, request_handler, invoke_id, headers, body)

