// A variant of peer-action.js for the cold-start figure: the same Action with the SDK required
// at module scope, as many Actions are written (`const { ManagementClient } = require('auth0')`
// at the top), so every cold start pays for loading it, returning users included.
'use strict';
require('auth0');
module.exports = require('./peer-action.js');
