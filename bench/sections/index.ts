/**
 * The benchmark sections, in the order they run (and their rows appear). Adding one is one line:
 * a module exporting `name` and `run` (bench/section.ts).
 */
import type { BenchSection } from "../section";

export const SECTIONS: ReadonlyArray<() => Promise<BenchSection>> = [
  () => import("./widget"),
  () => import("./data"),
  () => import("./recovery"),
  () => import("./logins"),
  () => import("./claims"),
  () => import("./push"),
  () => import("./production"),
  () => import("./memory"),
  () => import("./channels"),
  () => import("./soak"),
];
