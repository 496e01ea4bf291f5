// The CLI's help texts that are not generated from a schema (a resource's flags are: see resource-flags.ts).

/** `switchboard --help`. */
export const USAGE = `Usage: switchboard <noun> <verb> [arguments] [--json] [--url URL] [--token TOKEN]

  channel    list | get NAME | create --name N --address ws://h:p/path --service S [...] | update NAME [...] | delete NAME
             clients NAME | disconnect NAME PUB_CLIENT_ID | invoke-client NAME PUB_CLIENT_ID --request JSON [--timeout S]
  outgoing   list | get NAME | create --name N --address ws://… [--zato] [...] | update NAME [...] | delete NAME
  security   list | get NAME | create --name N --type basic_auth|apikey|jwt [--username U] (--password P | --password-stdin | --secret-stdin)
             [--public-key PEM | --jwks-url URL] [--issuer I] [--audience A]... [--algorithms ALG]... | update NAME [...] | delete NAME
  service    list | get NAME | deployments | invoke NAME [--request JSON | --request-file FILE | --request -]
  stats      live totals: connections, messages in/out, service calls, errors, pub/sub depth
  cluster    the servers sharing the database: heartbeat age, clients, which one does housekeeping
  topic      list | get NAME | create --name /t [...] | update NAME [...] | delete NAME
             publish NAME --data JSON [--priority 1-9] [--expiration MS] [--gd | --no-gd] | messages NAME [--after SEQ] [--limit N]
  subscription  list | get SUB_KEY | delete SUB_KEY
  apply      -f FILE [--prune] [--dry-run] [--verbose] [--force-secrets]   make the server match FILE (- = stdin)
  export     [-o FILE]                                                      print the config in the format apply takes
             --asyncapi [-o FILE]                                           print the AsyncAPI 3.0 document of channels, services, topics

The admin API is SWITCHBOARD_ADMIN_URL (or http://SWITCHBOARD_ADMIN_HOST:SWITCHBOARD_ADMIN_PORT, default
http://127.0.0.1:17010, https:// when SWITCHBOARD_ADMIN_TLS_CERT is set); the token is SWITCHBOARD_ADMIN_TOKEN or
the file data/admin-token. An https admin with a self-signed or private CA: --ca FILE or SWITCHBOARD_ADMIN_CA (a PEM file).
Run 'switchboard <noun> --help' for a noun's flags.`;

/** `switchboard apply --help`. */
export const APPLY_HELP = `switchboard apply -f FILE — create and update objects to match FILE ("-" reads stdin)

FILE is JSON: { "security": [...], "channels": [...], "outgoing": [...], "topics": [...] }, each entry the body
the admin API's POST/PUT takes. Fields an entry leaves out keep their current values. Nothing is deleted
unless --prune is given. See docs/cli.md.

  --prune           delete objects of the kinds FILE lists that FILE does not name
  --dry-run         report what would change, write nothing
  --verbose         also print the objects that are unchanged
  --force-secrets   send the passwords/secrets FILE gives for existing security definitions
  --json            print { created, updated, deleted, unchanged }`;

/** `switchboard export --help`. */
export const EXPORT_HELP = `switchboard export [-o FILE] — the server's config (no live state, no secrets) in the format apply takes

  -o FILE      write to FILE instead of stdout
  --asyncapi   instead, the AsyncAPI 3.0 document of every channel, mounted service and topic (GET /api/asyncapi.json)`;
