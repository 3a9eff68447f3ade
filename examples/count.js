// The Node.js function of the example service: counts the words of a text.
exports.handler = async (event) => {
  const text = (event && event.text) || "";
  const words = text.split(/\s+/).filter(Boolean).length;
  return { count: words, unit: process.env.UNIT, stage: process.env.STAGE };
};
