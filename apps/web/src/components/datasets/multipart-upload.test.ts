import { describe, expect, it } from "vitest";
import type { SignedPart } from "@wyolo/contracts";
import { missingParts, PartUploadError, partRange, uploadMissingParts, type PutPart } from "./multipart-upload";

describe("parts", () => {
  it("ranges: full parts and a short last one", () => {
    expect(partRange(1, 10, 25)).toEqual({ start: 0, end: 10 });
    expect(partRange(3, 10, 25)).toEqual({ start: 20, end: 25 });
  });
  it("missing parts skip those uploaded", () => expect(missingParts(5, [2, 4])).toEqual([1, 3, 5]));
});

/** A fake object store: records what each part received; `fail` decides per call. */
function store(fail: (partNumber: number, call: number) => number | null = () => null, delayMs = 2, etag = (n: number) => `"e${n}"`) {
  const received = new Map<number, string>();
  let inFlight = 0;
  let maxInFlight = 0;
  const calls: number[] = [];
  const put: PutPart = async (url, body, onProgress, signal) => {
    const partNumber = Number(new URL(url).searchParams.get("partNumber"));
    calls.push(partNumber);
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      await new Promise((r) => setTimeout(r, delayMs));
      if (signal.aborted) throw new DOMException("aborted", "AbortError");
      const status = fail(partNumber, calls.filter((n) => n === partNumber).length);
      if (status !== null) throw new PartUploadError(status, `status ${status}`);
      onProgress(body.size / 2);
      onProgress(body.size);
      received.set(partNumber, await body.text());
      return etag(partNumber);
    } finally {
      inFlight--;
    }
  };
  return { put, received, calls, maxInFlight: () => maxInFlight };
}

const file = new Blob(["aaaaabbbbbcccccdddddeeeeefffffggggghh"]); // 37 bytes, parts of 5 → 8 parts
const signer = (generation = { n: 0 }) => {
  const asked: number[][] = [];
  const sign = async (partNumbers: number[]) => {
    asked.push(partNumbers);
    generation.n++;
    return partNumbers.map((partNumber) => ({ partNumber, url: `http://s3.test/up?partNumber=${partNumber}&g=${generation.n}` }));
  };
  return { sign, asked };
};

/** The 37-byte file in parts of 5, nothing uploaded yet. */
const fresh = (put: PutPart, sign: (n: number[]) => Promise<SignedPart[]>) => ({
  file,
  partSize: 5,
  partCount: 8,
  uploaded: [],
  sign,
  put,
});

describe("uploadMissingParts", () => {
  it("sends every part's bytes, at most `concurrency` at once, with progress up to the size", async () => {
    const s = store();
    const { sign, asked } = signer();
    const progress: number[] = [];
    const remembered: number[] = [];
    const parts = await uploadMissingParts({
      ...fresh(s.put, sign),
      concurrency: 3,
      onProgress: (sent) => progress.push(sent),
      onPart: (p) => remembered.push(p.partNumber),
    });
    expect(parts.map((p) => p.etag)).toEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => `"e${n}"`));
    expect(parts.at(-1)).toEqual({ partNumber: 8, size: 2, etag: '"e8"' });
    expect(remembered.sort()).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...s.received.keys()].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(s.received.get(8)).toBe("hh");
    expect(s.received.get(2)).toBe("bbbbb");
    expect(s.maxInFlight()).toBe(3);
    expect(asked).toHaveLength(1); // one batch signed them all
    expect(progress.at(-1)).toBe(37);
    expect(
      progress.every((sent, i) => i === 0 || sent >= progress[i - 1]!),
      "progress never goes back",
    ).toBe(true);
  });

  it("resume: only the parts the store lacks, progress starting from what is there", async () => {
    const s = store();
    const progress: number[] = [];
    const parts = await uploadMissingParts({
      file,
      partSize: 5,
      partCount: 8,
      uploaded: [1, 2, 3, 5].map((partNumber) => ({ partNumber, size: 5, etag: `"old${partNumber}"` })),
      urls: [4, 6, 7, 8].map((n) => ({ partNumber: n, url: `http://s3.test/up?partNumber=${n}` })),
      sign: () => Promise.reject(new Error("no signing needed")),
      put: s.put,
      onProgress: (sent) => progress.push(sent),
    });
    expect(s.calls.sort((a, b) => a - b)).toEqual([4, 6, 7, 8]);
    expect(progress[0]).toBe(20);
    expect(parts.map((p) => p.etag)).toEqual(['"old1"', '"old2"', '"old3"', '"e4"', '"old5"', '"e6"', '"e7"', '"e8"']);
    expect(progress.at(-1)).toBe(37);
  });

  it("an expired URL (403) is signed again, a 5xx retried with backoff, a 4xx fails at once", async () => {
    const s = store((part, call) => (part === 2 && call === 1 ? 403 : part === 3 && call < 3 ? 503 : null));
    const { sign, asked } = signer();
    const waits: number[] = [];
    await uploadMissingParts({
      ...fresh(s.put, sign),
      backoffMs: (n) => (waits.push(n), 1),
    });
    expect(asked.some((batch) => batch[0] === 2 && batch.length === 1)).toBe(true);
    expect(waits).toEqual([1, 2]);
    expect(s.received.size).toBe(8);

    const bad = store((part) => (part === 1 ? 400 : null));
    await expect(uploadMissingParts({ ...fresh(bad.put, sign) })).rejects.toMatchObject({
      status: 400,
    });
    expect(bad.calls.filter((n) => n === 1)).toHaveLength(1);
  });

  it("a store that keeps refusing (403) fails instead of signing forever", async () => {
    const s = store(() => 403);
    const { sign, asked } = signer();
    await expect(
      uploadMissingParts({
        ...fresh(s.put, sign),
        concurrency: 1,
      }),
    ).rejects.toMatchObject({ status: 403 });
    expect(asked.length).toBeLessThanOrEqual(3);
  });

  it("gives up after `attempts` network errors", async () => {
    const s = store((part) => (part === 4 ? 0 : null));
    const { sign } = signer();
    await expect(
      uploadMissingParts({
        ...fresh(s.put, sign),
        attempts: 3,
        backoffMs: () => 1,
      }),
    ).rejects.toBeInstanceOf(PartUploadError);
    expect(s.calls.filter((n) => n === 4)).toHaveLength(3);
  });

  it("cancel stops sending: no part starts after the abort", async () => {
    const s = store(() => null, 20);
    const { sign } = signer();
    const abort = new AbortController();
    const run = uploadMissingParts({
      ...fresh(s.put, sign),
      concurrency: 2,
      signal: abort.signal,
    });
    setTimeout(() => abort.abort(), 5);
    await expect(run).rejects.toMatchObject({ name: "AbortError" });
    expect(s.calls.length).toBe(2);
    expect(s.received.size).toBe(0);
  });

  it("more parts than one signing batch: URLs asked for in batches of at most 100", async () => {
    const big = new Blob([new Uint8Array(250)]);
    const s = store(() => null, 0);
    const { sign, asked } = signer();
    await uploadMissingParts({ file: big, partSize: 1, partCount: 250, uploaded: [], sign, put: s.put, concurrency: 4 });
    expect(s.received.size).toBe(250);
    expect(asked.every((b) => b.length <= 100)).toBe(true);
    expect(asked.length).toBe(3);
  });

  it("a store that hides the ETag (CORS without ExposeHeaders) fails at once, with a message saying so", async () => {
    const s = store(
      () => null,
      1,
      () => "",
    );
    const { sign } = signer();
    await expect(
      uploadMissingParts({
        ...fresh(s.put, sign),
        concurrency: 1,
      }),
    ).rejects.toThrow("ETag");
    expect(s.calls).toEqual([1]);
  });
});
