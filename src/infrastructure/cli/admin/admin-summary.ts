/**
 * The admin commands as listed in `liftbridge --help` (the server's help), kept free of imports so
 * the server's command line can show it without loading the admin code.
 */

/** First arguments that select an admin command instead of the server. */
export const ADMIN_COMMAND_NAMES: readonly string[] = ['stream', 'publish', 'subscribe', 'bench', 'cursor', 'activity', 'group'];

export const ADMIN_HELP_SUMMARY = `
Admin commands (liftbridge <command> --help for their options):
  stream create|list|describe|delete|pause|resume|readonly   manage streams
  publish <stream> [value...]       publish values, or each line of stdin
  subscribe <stream>                print a partition's messages
  bench                             publish/subscribe load test with a summary
  cursor get|set <id> <stream>      read or store a consumer cursor
  activity                          print the activity stream, one event per line
  group list|describe <groupId>     list consumer groups, or describe one
Admin commands take --servers host:port (default localhost:9292) and --json.`;
