"""The Python function of the example service."""
import os

from greeting import greet  # from the `common` layer, at /opt/python


def handler(event, context):
    name = (event or {}).get("name", "world")
    return {
        "message": greet(os.environ.get("GREETING", "Hello"), name),
        "stage": os.environ.get("STAGE"),
        "function": context.function_name,
    }
