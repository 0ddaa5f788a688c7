// A small agent workspace, written as a frontend developer would against the client that
// openapi-typescript + openapi-fetch generate from openapi/openapi.json, with no casts and no
// hand-written types. tests/clients/test_typescript_client.py type-checks it with
// `tsc --noEmit --strict`: a change to the document that breaks this code fails the suite.
// docs/clients.md shows the same patterns.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths, webhooks } from "./api";

type Schemas = components["schemas"];
type Ticket = Schemas["TicketRead"] | Schemas["CustomerTicketRead"];
type EventRead = Schemas["EventRead"];

export function connect(baseUrl: string, token: string) {
  const client = createClient<paths>({ baseUrl });
  const auth: Middleware = {
    onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${token}`);
      return request;
    },
  };
  client.use(auth);
  return client;
}

type Client = ReturnType<typeof connect>;

// The fields every frontend shows, whoever is looking: common to both views.
export function headline(ticket: Ticket): string {
  return `#${ticket.id} ${ticket.subject} (${ticket.status.label})`;
}

// Staff-only fields after narrowing on `view`: the OpenAPI discriminator makes it a union
// TypeScript narrows by itself.
export function priorityBadge(ticket: Ticket): string | null {
  if (ticket.view === "staff") {
    return ticket.priority; // "low" | "normal" | "high" | "urgent"
  }
  return null;
}

// What must not compile: the staff-only fields are not there without narrowing, and never on
// the customer view. (tsc fails on an @ts-expect-error that has no error to expect.)
export function mistakes(ticket: Ticket, customer: Schemas["CustomerTicketRead"]): unknown[] {
  return [
    // @ts-expect-error priority is staff-only: narrow on `view` first
    ticket.priority,
    // @ts-expect-error the customer view never carries internal fields
    customer.assignee_id,
    // @ts-expect-error a request must still give the fields it needs (`comment`)
    ((body: Schemas["TicketCreate"]) => body)({ subject: "no comment" }),
  ];
}

export async function openTicket(client: Client, customerEmail: string): Promise<Ticket> {
  // Only body and public: every field with a server-side default is optional.
  const { data, error } = await client.POST("/v1/tickets", {
    body: {
      subject: "Printer on fire",
      requester: { email: customerEmail, name: "Ada Customer" },
      comment: { body: "It smokes since this morning.", public: true },
    },
  });
  if (error) {
    throw new Error(`${error.title}: ${error.detail ?? ""}`);
  }
  return data;
}

export async function staffTicket(client: Client, id: number): Promise<Schemas["TicketRead"]> {
  const { data, error } = await client.GET("/v1/tickets/{ticket_id}", {
    params: { path: { ticket_id: id } },
  });
  if (error) {
    throw new Error(error.title);
  }
  if (data.view !== "staff") {
    throw new Error("this workspace is for staff");
  }
  const urgent: boolean = data.priority === "urgent";
  console.log(headline(data), urgent ? "URGENT" : "", data.assignee_id ?? "unassigned");
  return data;
}

export async function replyAndNote(client: Client, ticketId: number): Promise<number[]> {
  const reply = await client.POST("/v1/tickets/{ticket_id}/comments", {
    params: { path: { ticket_id: ticketId } },
    body: { body: "We are on our way.", public: true },
  });
  const note = await client.POST("/v1/tickets/{ticket_id}/comments", {
    params: { path: { ticket_id: ticketId } },
    body: { body: "Bring the extinguisher.", public: false },
  });
  if (!reply.data || !note.data) {
    throw new Error("comment refused");
  }
  return [reply.data.id, note.data.id];
}

// Every page of the open tickets, following the opaque cursor.
export async function allOpenTickets(client: Client): Promise<Ticket[]> {
  const tickets: Ticket[] = [];
  let cursor: string | null = null;
  do {
    const { data, error }: Awaited<ReturnType<typeof listPage>> = await listPage(client, cursor);
    if (error) {
      throw new Error(error.title);
    }
    tickets.push(...data.data);
    cursor = data.next_cursor;
  } while (cursor !== null);
  return tickets;
}

function listPage(client: Client, cursor: string | null) {
  return client.GET("/v1/tickets", {
    params: { query: { status_category: ["new", "open"], sort: "-updated_at", limit: 25, cursor } },
  });
}

export async function solve(client: Client, ticket: Schemas["TicketRead"]): Promise<void> {
  const statuses = await client.GET("/v1/ticket-statuses");
  const solved = statuses.data?.data.find((s) => s.category === "solved");
  if (!solved) {
    throw new Error("no solved status");
  }
  const { error } = await client.PATCH("/v1/tickets/{ticket_id}", {
    params: { path: { ticket_id: ticket.id } },
    body: { status_id: solved.id },
  });
  if (error) {
    throw new Error(error.title);
  }
}

export async function mergeDuplicates(client: Client, target: number, sources: number[]) {
  // `public` has a server-side default: leaving it out compiles.
  const { data, error } = await client.POST("/v1/tickets/{ticket_id}/merge", {
    params: { path: { ticket_id: target } },
    body: { source_ids: sources, target_comment: "Merged the duplicates." },
  });
  if (error) {
    throw new Error(error.title);
  }
  return { survivor: data.target.priority, closed: data.sources.map((s) => s.merged_into_id) };
}

export async function slaDeadlines(client: Client, ticketId: number): Promise<string[]> {
  const { data } = await client.GET("/v1/tickets/{ticket_id}/sla", {
    params: { path: { ticket_id: ticketId } },
  });
  return (data?.metrics ?? []).map((m) => `${m.metric}: ${m.status} by ${m.breach_at ?? "—"}`);
}

export async function downloadAttachment(client: Client, attachmentId: number): Promise<Blob> {
  const { data, error } = await client.GET("/v1/attachments/{attachment_id}/content", {
    params: { path: { attachment_id: attachmentId } },
    parseAs: "blob",
  });
  if (error || !data) {
    throw new Error("no such file");
  }
  return data;
}

export async function subscribe(client: Client, url: string): Promise<string> {
  const { data, error } = await client.POST("/v1/webhooks", {
    body: { url, events: ["ticket.created", "comment.created"] },
  });
  if (error) {
    throw new Error(error.title);
  }
  return data.secret; // whsec_…, shown once
}

// --- Server-Sent Events -------------------------------------------------------------------
// EventSource cannot send an Authorization header, so the stream is read with fetch. Each
// message's data is one EventRead; for staff, its `data` is the payload of the webhook
// message of the same type.

export type EventType = keyof webhooks;
export type Payload<T extends EventType> = NonNullable<
  webhooks[T]["post"]["requestBody"]
>["content"]["application/json"]["data"];

export function commentOf(event: EventRead): Payload<"comment.created">["comment"] | null {
  if (event.type !== "comment.created") {
    return null;
  }
  // The feed's `data` is an open object in the document; the catalogue says its shape.
  const payload = event.data as Payload<"comment.created">;
  return payload.comment;
}

export async function* streamEvents(
  baseUrl: string,
  token: string,
  lastEventId?: string,
): AsyncGenerator<EventRead> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (lastEventId) {
    headers["Last-Event-ID"] = lastEventId;
  }
  const response = await fetch(`${baseUrl}/v1/events/stream`, { headers });
  if (!response.ok || !response.body) {
    throw new Error(`stream refused: ${response.status}`);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer += value;
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = frame
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => line.slice(6))
        .join("\n");
      if (data) {
        const event: EventRead = JSON.parse(data);
        yield event;
      }
    }
  }
}

// --- Webhooks ------------------------------------------------------------------------------
// Standard Webhooks: base64(HMAC-SHA256(secret, `${id}.${timestamp}.${body}`)) in
// `webhook-signature` as `v1,<signature>` (several, space-separated, while a secret rotates).

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

export async function verifyWebhook(
  secret: string,
  headers: Headers,
  body: string,
  toleranceSeconds = 300,
): Promise<webhooks[EventType]["post"]["requestBody"]["content"]["application/json"]> {
  const id = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signatures = headers.get("webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new Error("not a signed webhook");
  }
  if (Math.abs(Date.now() / 1000 - Number(timestamp)) > toleranceSeconds) {
    throw new Error("webhook timestamp outside the tolerance");
  }
  const key = await crypto.subtle.importKey(
    "raw",
    fromBase64(secret.replace(/^whsec_/, "")),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["verify"],
  );
  const signed = new TextEncoder().encode(`${id}.${timestamp}.${body}`);
  for (const candidate of signatures.split(" ")) {
    const [version, signature] = candidate.split(",", 2);
    if (version === "v1" && signature) {
      if (await crypto.subtle.verify("HMAC", key, fromBase64(signature), signed)) {
        return JSON.parse(body);
      }
    }
  }
  throw new Error("bad webhook signature");
}

export async function onWebhook(secret: string, request: Request): Promise<string> {
  const message = await verifyWebhook(secret, request.headers, await request.text());
  switch (message.type) {
    case "ticket.created":
      return `new ticket ${message.data.ticket.subject} (${message.data.ticket.priority})`;
    case "comment.created":
      return `comment on ${message.data.ticket_id}: ${message.data.comment.body}`;
    default:
      return message.type;
  }
}
