/**
 * Hysteresis between two queue depths: pause consuming above `high`,
 * resume only once the depth is back below `low`.
 */
export type BackpressureAction = 'pause' | 'resume' | 'none';

export function backpressureAction(depth: number, paused: boolean, limits: { high: number; low: number }): BackpressureAction {
  if (!paused && depth > limits.high) return 'pause';
  if (paused && depth < limits.low) return 'resume';
  return 'none';
}
