/**
 * The SQLite adapter's schema migrations, one file each, applied in order inside one transaction
 * each (migrate.ts). Never edit a shipped migration: add a new one.
 */
import { migration as v01 } from './v01.js';
import { migration as v02 } from './v02.js';
import { migration as v03 } from './v03.js';
import { migration as v04 } from './v04.js';
import { migration as v05 } from './v05.js';
import { migration as v06 } from './v06.js';
import { migration as v07 } from './v07.js';
import { migration as v08 } from './v08.js';
import { migration as v09 } from './v09.js';
import { migration as v10 } from './v10.js';
import { migration as v11 } from './v11.js';
import { migration as v12 } from './v12.js';
import { migration as v13 } from './v13.js';
import { migration as v14 } from './v14.js';
import { migration as v15 } from './v15.js';
import { migration as v16 } from './v16.js';
import { migration as v17 } from './v17.js';
import { migration as v18 } from './v18.js';
import { migration as v19 } from './v19.js';
import { migration as v20 } from './v20.js';
import { migration as v21 } from './v21.js';

import type { Migration } from './migration.js';

export type { Migration };

export const MIGRATIONS: readonly Migration[] = [v01, v02, v03, v04, v05, v06, v07, v08, v09, v10, v11, v12, v13, v14, v15, v16, v17, v18, v19, v20, v21];
