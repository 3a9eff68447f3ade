#!/bin/sh
# An AWS_LAMBDA_EXEC_WRAPPER script: adjust the environment, then run the
# runtime command it was given.
export WRAPPED_BY=wrapper.sh
export WRAPPED_ARGC=$#
exec "$@"
