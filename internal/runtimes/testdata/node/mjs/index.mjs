// The AWS console's default Node.js function.
export const handler = async (event) => {
  const response = {
    statusCode: 200,
    body: JSON.stringify('Hello from Lambda!'),
  };
  return response;
};

export const echo = async (event) => event;

export const fail = async () => {
  throw new Error('esm failure');
};
