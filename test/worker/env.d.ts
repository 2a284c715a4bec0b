import type { D1Migration } from '@cloudflare/vitest-pool-workers';
import type { Bindings } from '../../functions/env';

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {
      DB: D1Database;
      TEST_MIGRATIONS: D1Migration[];
    }
  }
}
