"""Shared helpers of the example service, published as the `common` layer."""


def greet(greeting, name):
    return f"{greeting}, {name}!"
