#!/usr/bin/env node
// The `weftctl` command (operator CLI): bin/launch.js explains why this is plain JavaScript.
import { launch } from './launch.js';

launch('weftctl', 'src/runtime/cli/weftctl.ts');
