// Small helpers over the REST API (/api/v1/). Errors carry the API's
// {"message", "errors": {field: [...]}} shape.

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.errors = (body && body.errors) || {};
  }
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = { message: text.slice(0, 200) }; }
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export async function getJSON(url, { signal } = {}) {
  const response = await fetch(url, { headers: { Accept: 'application/json' }, signal });
  return parse(response);
}

export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// POST JSON with an Idempotency-Key that stays the same across retries: a request whose
// answer was lost on a flaky connection is sent again, and the server replays the first
// answer instead of filing a second report. Retries only network failures and 409 (the
// first attempt is still being processed), with growing pauses.
export async function postJSONWithRetry(url, payload, { key = newIdempotencyKey(), onRetry,
                                                          attempts = 6 } = {}) {
  let lastError;
  for (let attempt = 0; attempt < attempts; attempt += 1) {
    if (attempt > 0) {
      if (onRetry) onRetry(attempt);
      await sleep(Math.min(500 * 2 ** (attempt - 1), 8000));
    }
    let response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json',
                   'Idempotency-Key': key },
        body: JSON.stringify(payload),
      });
    } catch (error) {  // network failure: the server may or may not have the report
      lastError = error;
      continue;
    }
    if (response.status === 409) { lastError = new ApiError(409, null); continue; }
    return parse(response);
  }
  throw lastError;
}

// Upload one file with progress (fetch has no upload progress; XMLHttpRequest has).
export function uploadWithProgress(url, formData, headers, onProgress) {
  return new Promise((resolve, reject) => {
    const request = new XMLHttpRequest();
    request.open('POST', url);
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    request.onload = () => {
      let body = null;
      try { body = JSON.parse(request.responseText); } catch { body = null; }
      if (request.status >= 200 && request.status < 300) resolve(body);
      else reject(new ApiError(request.status, body));
    };
    request.onerror = () => reject(new TypeError('network error'));
    request.send(formData);
  });
}
