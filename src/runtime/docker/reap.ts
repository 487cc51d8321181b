/**
 * `node reap.ts <container id>...`: force-removes containers a hub process still owned when it
 * exited abruptly (second Ctrl-C). Started detached by container.ts's exit hook.
 */
import { connect } from "./engine.ts";
import { removeContainer } from "./container.ts";

const ids = process.argv.slice(2);
if (ids.length > 0) {
  const docker = await connect();
  await Promise.all(ids.map((id) => removeContainer(docker, id)));
}
