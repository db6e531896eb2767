// The floor of the cold-start benchmark: an Action that does nothing.
exports.onExecutePostLogin = async () => {};
