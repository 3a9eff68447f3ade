import os


def handler(event, context):
    return {"lang": "python", "greeting": os.environ["GREETING"] + ", " + event.get("name", "world")}
