import logging

logger = logging.getLogger()


def handler(event, context):
    print("hello from print")
    logger.info("info from logging")
    logger.warning("multi\nline")
    return None
