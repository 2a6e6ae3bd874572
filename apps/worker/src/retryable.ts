/** An HTTP answer worth trying again: none at all, a 5xx or throttling. Other 4xx answers will not change. */
export function isRetryableStatus(status: number | undefined): boolean {
  return !status || status >= 500 || status === 429;
}

/** The HTTP status an AWS SDK (S3) error carries, if any. */
export function s3Status(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}
