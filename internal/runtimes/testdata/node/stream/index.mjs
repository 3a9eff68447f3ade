import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';

export const plain = awslambda.streamifyResponse(async (event, responseStream, context) => {
  responseStream.setContentType('text/plain');
  responseStream.write('hello ');
  responseStream.write(context.awsRequestId + ' ');
  await pipeline(Readable.from([JSON.stringify(event)]), responseStream);
});

export const http = awslambda.streamifyResponse(async (event, responseStream) => {
  const s = awslambda.HttpResponseStream.from(responseStream, { statusCode: 201, headers: { 'x-a': 'b' } });
  s.write('body');
  s.end();
});

export const failEarly = awslambda.streamifyResponse(async () => {
  throw new Error('stream broke');
});

export const unfinished = awslambda.streamifyResponse(async (event, responseStream) => {
  responseStream.write('partial');
});
