import { DATASET_SIGN_PARTS_MAX, type SignedPart } from "@wyolo/contracts";

/** A part's PUT failed; `status` 0 is a network error. */
export class PartUploadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** PUTs one part's bytes to its presigned URL, reporting bytes sent; answers the part's ETag; rejects with PartUploadError (or AbortError). */
export type PutPart = (url: string, body: Blob, onProgress: (loaded: number) => void, signal: AbortSignal) => Promise<string>;

/** A part in the object store: completing the upload names each with its ETag. */
export type UploadedPart = { partNumber: number; size: number; etag: string };

/** The byte range of a part (1-based), end exclusive. */
export function partRange(partNumber: number, partSize: number, size: number): { start: number; end: number } {
  const start = (partNumber - 1) * partSize;
  return { start, end: Math.min(size, start + partSize) };
}

/** Parts still to send, ascending. */
export function missingParts(partCount: number, uploaded: Iterable<number>): number[] {
  const have = new Set(uploaded);
  return Array.from({ length: partCount }, (_, i) => i + 1).filter((n) => !have.has(n));
}

export type MultipartUpload = {
  file: Blob;
  partSize: number;
  partCount: number;
  /** Parts the object store has already (resume), with their sizes and ETags. */
  uploaded: UploadedPart[];
  /** URLs handed out with the upload; the rest are asked for in batches. */
  urls?: SignedPart[];
  sign: (partNumbers: number[]) => Promise<SignedPart[]>;
  put?: PutPart;
  /** Parts in flight at once. */
  concurrency?: number;
  /** Tries per part before the upload fails (network errors and 5xx; an expired URL is re-signed and does not count). */
  attempts?: number;
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number) => void;
  /** Each part once stored (to remember for a resume after a reload). */
  onPart?: (part: UploadedPart) => void;
  /** Backoff before retry n (1-based). */
  backoffMs?: (retry: number) => number;
};

const abortError = () => new DOMException("Upload cancelled", "AbortError");

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * Sends the parts the object store lacks, `concurrency` at a time, each straight to its presigned
 * URL. Progress counts parts already there plus bytes in flight. Answers every part with its ETag,
 * ascending, for the caller's next call: completing the upload.
 */
export async function uploadMissingParts(u: MultipartUpload): Promise<UploadedPart[]> {
  const signal = u.signal ?? new AbortController().signal;
  const put = u.put ?? xhrPut;
  const attempts = u.attempts ?? 5;
  const backoff = u.backoffMs ?? ((n: number) => Math.min(10_000, 500 * 2 ** (n - 1)));
  const total = u.file.size;
  const base = u.uploaded.reduce((n, p) => n + p.size, 0);
  const inFlight = new Map<number, number>();
  const stored = new Map(u.uploaded.map((p) => [p.partNumber, p]));
  const report = () => {
    let sent = base;
    for (const bytes of inFlight.values()) sent += bytes;
    u.onProgress?.(Math.min(sent, total), total);
  };

  const queue = missingParts(
    u.partCount,
    u.uploaded.map((p) => p.partNumber),
  );
  const urls = new Map((u.urls ?? []).map((p) => [p.partNumber, p.url]));
  // One signing request at a time, for the next batch of parts without a URL.
  let signing: Promise<void> | null = null;
  const urlFor = async (partNumber: number, fresh = false): Promise<string> => {
    if (fresh) urls.delete(partNumber);
    while (!urls.has(partNumber)) {
      if (!signing) {
        const wanted = [partNumber, ...queue.filter((n) => !urls.has(n) && n !== partNumber)].slice(0, DATASET_SIGN_PARTS_MAX);
        signing = u
          .sign(wanted)
          .then((signed) => signed.forEach((p) => urls.set(p.partNumber, p.url)))
          .finally(() => (signing = null));
      }
      await signing;
      if (signal.aborted) throw abortError();
      if (!urls.has(partNumber)) throw new PartUploadError(0, `No upload URL for part ${partNumber}`);
    }
    return urls.get(partNumber)!;
  };

  const sendPart = async (partNumber: number) => {
    const { start, end } = partRange(partNumber, u.partSize, total);
    const body = u.file.slice(start, end);
    let url = await urlFor(partNumber);
    let resigned = 0;
    for (let attempt = 1; ; ) {
      if (signal.aborted) throw abortError();
      try {
        const etag = await put(
          url,
          body,
          (loaded) => {
            inFlight.set(partNumber, loaded);
            report();
          },
          signal,
        );
        inFlight.set(partNumber, end - start);
        report();
        // A configuration problem, not a passing one: no retry.
        if (!etag) throw new Error("The object store did not expose the part's ETag header (check the bucket's CORS rules)");
        const part = { partNumber, size: end - start, etag };
        stored.set(partNumber, part);
        u.onPart?.(part);
        return;
      } catch (err) {
        inFlight.set(partNumber, 0);
        report();
        if (signal.aborted || (err instanceof DOMException && err.name === "AbortError")) throw abortError();
        if (!(err instanceof PartUploadError)) throw err;
        const status = err.status;
        if (status === 403 && resigned++ < 2) {
          // The presigned URL expired (a long upload, or one resumed later): a fresh one, not a retry.
          url = await urlFor(partNumber, true);
          continue;
        }
        if ((status !== 0 && status < 500) || attempt >= attempts) throw err;
        await sleep(backoff(attempt++), signal);
      }
    }
  };

  report();
  let next = 0;
  let failure: unknown = null;
  const lane = async () => {
    while (next < queue.length && !failure) {
      const partNumber = queue[next++]!;
      try {
        await sendPart(partNumber);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(u.concurrency ?? 4, queue.length) }, lane));
  if (failure) throw failure;
  return [...stored.values()].sort((a, b) => a.partNumber - b.partNumber);
}

/** A PUT with upload progress (fetch has none): XMLHttpRequest. */
export const xhrPut: PutPart = (url, body, onProgress, signal) =>
  new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("PUT", url);
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () =>
      xhr.status >= 200 && xhr.status < 300
        ? resolve(xhr.getResponseHeader("ETag") ?? "")
        : reject(new PartUploadError(xhr.status, `The object store answered ${xhr.status}`));
    xhr.onerror = () => reject(new PartUploadError(0, "Network error while uploading"));
    xhr.onabort = () => reject(abortError());
    if (signal.aborted) return reject(abortError());
    signal.addEventListener("abort", () => xhr.abort(), { once: true });
    xhr.send(body);
  });
