// Preloaded with `node --import ./test/helpers/record-modules.ts`: appends the URL of every module
// the process loads (ESM and require(), through Node's synchronous module hooks) to the file named
// by RECORD_MODULES_FILE, one per line, as it is loaded, so a killed process leaves its list too.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const file = process.env.RECORD_MODULES_FILE;
if (file) {
  registerHooks({
    load(url, context, nextLoad) {
      appendFileSync(file, `${url}\n`);
      return nextLoad(url, context);
    },
  });
}
