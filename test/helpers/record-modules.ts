// Preloaded with `node --import ./test/helpers/record-modules.ts`: appends the URL of every module
// the process loads (ESM and require(), as Node's synchronous module hooks resolve them) to the
// file named by RECORD_MODULES_FILE, one per line, as it is resolved, so a killed process leaves
// its list too.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.RECORD_MODULES_FILE;
if (file) {
  // On resolve, not load: a hook registered after this one (the stripped-TypeScript cache the CLI
  // is started with) answers our sources' loads itself, without passing them on to this one.
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      appendFileSync(file, `${resolved.url}\n`);
      return resolved;
    },
  });
}
