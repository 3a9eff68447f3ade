import this_module_does_not_exist_anywhere


def handler(event, context):
    return 1
