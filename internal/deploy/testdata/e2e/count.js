exports.handler = async (event) => ({ lang: "node", count: (event.text || "").split(/\s+/).filter(Boolean).length });
