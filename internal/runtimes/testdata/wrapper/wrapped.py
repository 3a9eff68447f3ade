import os


def handler(event, context):
    return [os.environ.get("WRAPPED_BY"), int(os.environ.get("WRAPPED_ARGC", "0")) > 0]
