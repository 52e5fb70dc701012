'use strict';
/** Names the app's file descriptor that is the write end of the relay pipe (see run-app.js). */
exports.RELAY_FD_ENV = 'TASKQ_RUN_NODE_RELAY_FD';
