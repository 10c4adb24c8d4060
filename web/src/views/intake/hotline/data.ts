export const STATUS_TAGS: Record<string, 'success' | 'warning' | 'danger' | 'info'> = {
  done: 'success', finished: 'success', running: 'warning', failed: 'danger', stale: 'danger',
}

/** The running job of this file among the latest imports (its progress while the upload's
 * answer is pending: the server commits each batch as it goes). */
export function runningJob<T extends { status: string; filename: string; started_at: string }>(
  jobs: readonly T[],
  filename: string,
  since: Date,
): T | undefined {
  return jobs.find((j) => j.status === 'running' && j.filename === filename && new Date(j.started_at) >= new Date(since.getTime() - 5000))
}
