import { z } from "zod";

// zod probes `new Function` once to decide whether to compile its parsers; the pages' CSP has no
// 'unsafe-eval' (server/http/security-headers.ts), so in a browser the probe is only a reported
// violation. Browsers parse without compiling; the server keeps its compiled parsers.
if (typeof window !== "undefined") z.config({ jitless: true });
