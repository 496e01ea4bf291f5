import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorLine } from './table.js';

/** Parses what a user typed as JSON; an empty box is `undefined`. Throws a message fit to show. */
export function parseJsonInput(text: string, what: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${what} is not valid JSON`);
  }
}

/** Props of a panel that sends a JSON request somewhere and shows the response. */
export interface InvokeFormProps {
  readonly title: string;
  /** Prefix of the elements' ids (`<idPrefix>-request`). */
  readonly idPrefix: string;
  readonly testId: string;
  /** Sends the parsed request; resolves with the response to show. */
  readonly invoke: (request: unknown) => Promise<unknown>;
  readonly onClose: () => void;
  /** More inputs between the request and the buttons (e.g. a timeout). */
  readonly children?: ComponentChildren;
}

/** Request box, Invoke and Close, then the response (pretty-printed) or the error. */
export function InvokeForm(props: InvokeFormProps) {
  const [request, setRequest] = useState('{}');
  const [response, setResponse] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setResponse(null);
    try {
      const result = await props.invoke(parseJsonInput(request, 'The request'));
      setResponse(JSON.stringify(result, null, 2));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="panel" onSubmit={submit}>
      <h2>{props.title}</h2>
      <div class="field">
        <label for={`${props.idPrefix}-request`}>Request (JSON)</label>
        <textarea
          id={`${props.idPrefix}-request`}
          name="request"
          rows={4}
          value={request}
          onInput={(e) => setRequest(e.currentTarget.value)}
        />
      </div>
      {props.children}
      <div class="actions">
        <button type="submit" class="primary">
          Invoke
        </button>
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
      <ErrorLine error={error} />
      {response !== null && (
        <pre class="response" data-testid={props.testId}>
          {response}
        </pre>
      )}
    </form>
  );
}
