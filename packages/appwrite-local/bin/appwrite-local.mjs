#!/usr/bin/env node
// appwrite-local: runs the TypeScript sources directly (no build step) through tsx's ESM loader.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
