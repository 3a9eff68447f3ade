import { createRequire } from 'node:module';

let count = 0;
export const echo = async (event, context) => ({ event, esm: typeof require === 'undefined', requestId: context.awsRequestId });
export const warm = async () => ++count;
