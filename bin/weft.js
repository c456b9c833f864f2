#!/usr/bin/env node
// The `weft` command (control plane): bin/launch.js explains why this is plain JavaScript.
import { launch } from './launch.js';

launch('weft', 'src/runtime/cli/weft.ts');
