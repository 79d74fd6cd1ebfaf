/** Where a Pipeline flow's jumps land (shared by validation and compilation). */

/**
 * The step a jump from step `from` to filter `target` lands on: the first
 * later step running that filter (as Easegress skips forward to it), or
 * undefined when there is none. Jumps only forward, so every flow ends.
 */
export function forwardStep(flow: readonly { filter: string }[], from: number, target: string): number | undefined {
  for (let j = from + 1; j < flow.length; j++) if ((flow[j] as { filter: string }).filter === target) return j;
  return undefined;
}
