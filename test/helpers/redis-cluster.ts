/**
 * A real Redis Cluster on loopback for one test file: six `redis-server --cluster-enabled yes`
 * processes (three masters, three replicas) on ports the OS hands out, in a temp dir of their own,
 * joined by `redis-cli --cluster create … --cluster-replicas 1`; ready once every node reports
 * cluster_state:ok and every replica is in sync. A master can be killed (SIGKILL) and its replica's
 * promotion awaited. `stop()` kills every node and removes the dir, also after a failed start.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.js';
import { waitFor } from './wait-for.js';

const MASTERS = 3;
const REPLICAS_PER_MASTER = 1;
/**
 * How long a node may not answer before it is failing (Redis' default is 15 s): with 1 s a killed
 * master's replica takes over within a few seconds.
 */
const NODE_TIMEOUT_MS = 1_000;
/** Hang guards only: how long start-up and a failover may take before the test gives up. */
const START_TIMEOUT_MS = 30_000;
const FAILOVER_TIMEOUT_MS = 60_000;

export interface ClusterNodeProcess {
  port: number;
  child: ChildProcess;
}

/** One line of CLUSTER NODES: a node's address, role and slots. */
interface NodeEntry {
  id: string;
  port: number;
  master: boolean;
  failing: boolean;
  slots: [number, number][];
}

export interface TestRedisCluster {
  readonly nodes: readonly ClusterNodeProcess[];
  /** `127.0.0.1:P,…` of the first three nodes, for REDIS_CLUSTER_NODES (the rest are discovered). */
  readonly nodesEnv: string;
  /** The nodes still running (not killed). */
  liveNodes(): ClusterNodeProcess[];
  /** The slot Redis Cluster hashes `key` into (CLUSTER KEYSLOT). */
  keySlot(key: string): Promise<number>;
  /** The port of the master that serves `slot` now, as a live node sees it. */
  masterOf(slot: number): Promise<number>;
  /** SIGKILLs the node on `port` and resolves once it has exited. */
  kill(port: number): Promise<void>;
  /**
   * Resolves with the port of the node that serves `slot` once it is a master other than `oldPort`
   * and every live node reports cluster_state:ok.
   */
  waitForNewMaster(slot: number, oldPort: number): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the cluster; on any failure stops what it started and rethrows. */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'statcache-redis-cluster-'));
  const nodes: ClusterNodeProcess[] = [];
  const live = () => nodes.filter((n) => n.child.exitCode === null && n.child.signalCode === null);
  const stop = async () => {
    await Promise.all(
      nodes.map(
        (n) =>
          new Promise<void>((done) => {
            if (n.child.exitCode !== null || n.child.signalCode !== null) return done();
            n.child.once('exit', () => done());
            n.child.kill('SIGKILL');
          }),
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  /** A short-lived client on a live node for one query. */
  const ask = async <T>(query: (redis: Redis) => Promise<T>, port = live()[0]?.port): Promise<T> => {
    const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1 });
    redis.on('error', () => {});
    try {
      await redis.connect();
      return await query(redis);
    } finally {
      redis.disconnect();
    }
  };
  const clusterNodes = (port?: number) =>
    ask((r) => r.cluster('NODES') as Promise<string>, port).then(parseClusterNodes);
  const logTail = (port: number) => {
    try {
      return readFileSync(join(dir, `${port}.log`), 'utf8')
        .split('\n')
        .slice(-15)
        .join('\n');
    } catch {
      return '(no log)';
    }
  };

  try {
    const count = MASTERS * (1 + REPLICAS_PER_MASTER);
    for (let i = 0; i < count; i++) {
      const [port, busPort] = [await freePort(), await freePort()];
      const child = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1'],
          ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`)],
          ...['--cluster-node-timeout', String(NODE_TIMEOUT_MS)],
          // A replica may take over however long it was cut off: the test kills its master on purpose.
          ...['--cluster-replica-validity-factor', '0'],
          ...['--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'],
          ...['--logfile', join(dir, `${port}.log`)],
        ],
        { stdio: 'ignore' },
      );
      nodes.push({ port, child });
    }
    await Promise.all(nodes.map((n) => waitForListening(n)));
    await new Promise<void>((resolve, reject) => {
      execFile(
        'redis-cli',
        [
          '--cluster',
          'create',
          ...nodes.map((n) => `127.0.0.1:${n.port}`),
          '--cluster-replicas',
          String(REPLICAS_PER_MASTER),
          '--cluster-yes',
        ],
        (error, stdout, stderr) =>
          error
            ? reject(new Error(`redis-cli --cluster create failed: ${error.message}\n${stdout}${stderr}`))
            : resolve(),
      );
    });
    await waitFor(
      async () => {
        for (const n of nodes) {
          const [info, replication] = await ask(
            (r) => Promise.all([r.cluster('INFO') as Promise<string>, r.info('replication')]),
            n.port,
          );
          if (!info.includes('cluster_state:ok') || !info.includes(`cluster_known_nodes:${count}`))
            return false;
          if (replication.includes('role:slave') && !replication.includes('master_link_status:up'))
            return false;
        }
        const entries = await clusterNodes();
        return entries.filter((e) => e.master && e.slots.length > 0).length === MASTERS;
      },
      {
        timeoutMs: START_TIMEOUT_MS,
        what: 'the cluster to be ok on every node, replicas in sync',
        intervalMs: 100,
      },
    ).catch((error: Error) => {
      throw new Error(
        `${error.message}\n${nodes.map((n) => `--- ${n.port}\n${logTail(n.port)}`).join('\n')}`,
      );
    });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    nodes,
    nodesEnv: nodes
      .slice(0, MASTERS)
      .map((n) => `127.0.0.1:${n.port}`)
      .join(','),
    liveNodes: live,
    keySlot: (key) => ask((r) => r.cluster('KEYSLOT', key) as Promise<number>),
    async masterOf(slot) {
      const owner = (await clusterNodes()).find((e) => e.master && !e.failing && servesSlot(e, slot));
      if (!owner) throw new Error(`no master serves slot ${slot}`);
      return owner.port;
    },
    async kill(port) {
      const node = nodes.find((n) => n.port === port);
      if (!node) throw new Error(`no node on port ${port}`);
      await new Promise<void>((done) => {
        node.child.once('exit', () => done());
        node.child.kill('SIGKILL');
      });
    },
    async waitForNewMaster(slot, oldPort) {
      return waitFor(
        async () => {
          const entries = await clusterNodes();
          const owner = entries.find((e) => e.master && !e.failing && servesSlot(e, slot));
          if (!owner || owner.port === oldPort) return null;
          for (const n of live()) {
            const info = await ask((r) => r.cluster('INFO') as Promise<string>, n.port);
            if (!info.includes('cluster_state:ok')) return null;
          }
          return owner.port;
        },
        {
          timeoutMs: FAILOVER_TIMEOUT_MS,
          what: `a replica to take over slot ${slot} from port ${oldPort}`,
          intervalMs: 100,
        },
      ).catch((error: Error) => {
        throw new Error(
          `${error.message}\n${live()
            .map((n) => `--- ${n.port}\n${logTail(n.port)}`)
            .join('\n')}`,
        );
      });
    },
    stop,
  };
}

/** Resolves once the node accepts TCP connections; rejects if it exits first. */
async function waitForListening(node: ClusterNodeProcess): Promise<void> {
  await waitFor(
    () => {
      if (node.child.exitCode !== null)
        throw new Error(`redis-server on port ${node.port} exited (${node.child.exitCode})`);
      return new Promise<boolean>((resolve) => {
        const socket = tcpConnect(node.port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      });
    },
    { timeoutMs: START_TIMEOUT_MS, what: `redis-server to listen on port ${node.port}` },
  );
}

/**
 * CLUSTER NODES: `<id> <ip:port@bus[,hostname]> <flags> <master id|-> <ping> <pong> <epoch> <link>
 * <slot ranges…>`, flags such as `myself,master`, `slave`, `fail?`, `fail`.
 */
function parseClusterNodes(text: string): NodeEntry[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, address, flags, , , , , , ...slots] = line.trim().split(' ');
      const flagList = (flags ?? '').split(',');
      return {
        id: id as string,
        port: Number((address ?? '').split('@')[0]?.split(':').at(-1)),
        master: flagList.includes('master'),
        failing: flagList.includes('fail') || flagList.includes('fail?'),
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [from, to] = s.split('-').map(Number);
            return [from as number, to ?? (from as number)] as [number, number];
          }),
      };
    });
}

function servesSlot(entry: NodeEntry, slot: number): boolean {
  return entry.slots.some(([from, to]) => slot >= from && slot <= to);
}
