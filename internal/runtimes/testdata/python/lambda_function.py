import json
import logging
import os
import sys

import mylib
import layerlib

logger = logging.getLogger()
logger.setLevel(logging.INFO)

COUNT = 0
print("init: module imported")


def lambda_handler(event, context):
    # The AWS console's default Python function.
    return {"statusCode": 200, "body": json.dumps("Hello from Lambda!")}


def echo(event, context):
    return event


def context_fields(event, context):
    cc = context.client_context
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "function_version": context.function_version,
        "invoked_function_arn": context.invoked_function_arn,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "log_group_name": context.log_group_name,
        "log_stream_name": context.log_stream_name,
        "remaining_positive": 0 < context.get_remaining_time_in_millis() <= 60000,
        "identity_id": context.identity.cognito_identity_id,
        "identity_pool_id": context.identity.cognito_identity_pool_id,
        "client_custom": cc.custom if cc else None,
        "client_installation_id": cc.client.installation_id if cc and cc.client else None,
        "trace_env": os.environ.get("_X_AMZN_TRACE_ID"),
        "execution_env": os.environ.get("AWS_EXECUTION_ENV"),
        "custom_var": os.environ.get("CUSTOM_VAR"),
        "task_root": os.environ.get("LAMBDA_TASK_ROOT"),
        "cwd": os.getcwd(),
        "sys_path_head": sys.path[:4],
        "version": "%d.%d" % sys.version_info[:2],
    }


def fail(event, context):
    raise Exception("Handler fails")


def warm(event, context):
    global COUNT
    COUNT += 1
    return COUNT


def logs(event, context):
    print("hello from print")
    logger.info("info from logging")
    logging.warning("multi\nline")
    return None


def deps(event, context):
    return {"mylib": mylib.NAME, "layerlib": layerlib.NAME}


def not_serializable(event, context):
    return {"s": {1, 2}}


def decimal_result(event, context):
    import decimal

    return {"n": decimal.Decimal("1.50"), "i": decimal.Decimal("7")}


def raw_bytes(event, context):
    return b"\x00raw"


def area(event, context):
    # The AWS docs' example: length x width.
    length = event["length"]
    width = event["width"]
    area = length * width
    print(f"The area is {area}")
    logger.info(f"CloudWatch logs group: {context.log_group_name}")
    return json.dumps({"area": area})


def exit_now(event, context):
    sys.exit(0)


NOT_CALLABLE = 1
