// lazyfs for real: a FUSE mount (root, /dev/fuse) whose unsynced file data a loseUnsynced()
// drops, checked through the mount and against the backing folder, with plain fs calls, the
// node's own durable log, and a SIGKILLed writer. Skips without root only when allowed
// (PAXOS_ALLOW_UNPRIVILEGED=1), never under CI=true.

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DurableLog, encodeRecord } from "../../node/io/durable-log.js";
import { lazyFsUnavailable } from "../lazyfs/build.js";
import { ControlChannel } from "../lazyfs/control-channel.js";
import {
  fuseMounts,
  type LazyFs,
  lazyFsTag,
  mountLazyFs,
  sweepLazyFsMounts,
} from "../lazyfs/mount.js";
import { waitGone } from "../runtime/procfs.js";

function needFuse(): boolean {
  if (process.getuid?.() === 0 && fs.existsSync("/dev/fuse")) return true;
  if (process.env.PAXOS_ALLOW_UNPRIVILEGED === "1" && process.env.CI !== "true") return false;
  throw new Error(
    "the lazyfs tests need root and /dev/fuse (FUSE mounts); run as root or set PAXOS_ALLOW_UNPRIVILEGED=1",
  );
}

const enabled = needFuse();
const work = fs.mkdtempSync(path.join(os.tmpdir(), "paxos-lazyfs-test-"));

/** A mount of its own under the test's folder. */
function mountNamed(
  name: string,
  tag = lazyFsTag(`test-${name}`),
  syncDelayMs?: number,
): Promise<LazyFs> {
  return mountLazyFs({
    backing: path.join(work, name, "backing"),
    mountpoint: path.join(work, name, "mnt"),
    tag,
    ...(syncDelayMs === undefined ? {} : { syncDelayMs }),
  });
}

const isMounted = (mountpoint: string) => fuseMounts().some((m) => m.mountpoint === mountpoint);

describe.runIf(enabled)("lazyfs", () => {
  let lazy: LazyFs;
  const onMount = (...parts: string[]) => path.join(lazy.mountpoint, ...parts);
  const onBacking = (...parts: string[]) => path.join(lazy.backing, ...parts);

  beforeAll(async () => {
    lazy = await mountNamed("main");
  });

  afterAll(async () => {
    await lazy?.unmount();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it("mounts as a FUSE filesystem named by its tag, with nothing unsynced", async () => {
    const mount = fuseMounts().find((m) => m.mountpoint === lazy.mountpoint);
    expect(mount?.source).toBe(lazy.tag);
    expect(mount?.fstype).toMatch(/^fuse/);
    expect(await lazy.status()).toEqual({ files: 0, bytes: 0 });
  });

  it("keeps a write without fsync in memory: readable through the mount, absent from the backing file, gone after a loss", async () => {
    const data = "written, never synced\n";
    fs.writeFileSync(onMount("plain"), data);
    expect(fs.readFileSync(onMount("plain"), "utf8")).toBe(data);
    expect(fs.statSync(onMount("plain")).size).toBe(data.length);
    // Created at once (metadata), but its data only in the daemon.
    expect(fs.statSync(onBacking("plain")).size).toBe(0);
    expect(await lazy.status()).toEqual({ files: 1, bytes: data.length });

    expect(await lazy.loseUnsynced()).toEqual({ files: 1, bytes: data.length });
    expect(fs.statSync(onMount("plain")).size).toBe(0);
    expect(fs.readFileSync(onMount("plain"), "utf8")).toBe("");
    expect(await lazy.status()).toEqual({ files: 0, bytes: 0 });
  });

  it("brings back a file's old content when an overwrite and a truncate were not synced", async () => {
    const fd = fs.openSync(onMount("old"), "w");
    fs.writeSync(fd, "old content, synced");
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.writeFileSync(onMount("old"), "new"); // O_TRUNC, then a write: both unsynced
    fs.truncateSync(onMount("old"), 2); // by path
    expect(fs.readFileSync(onMount("old"), "utf8")).toBe("ne");
    expect(fs.readFileSync(onBacking("old"), "utf8")).toBe("old content, synced");

    expect(await lazy.loseUnsynced()).toEqual({ files: 1, bytes: 2 });
    expect(fs.readFileSync(onMount("old"), "utf8")).toBe("old content, synced");
  });

  it("drops the loss from a descriptor that stays open across it (no stale page cache)", async () => {
    const fd = fs.openSync(onMount("open"), "w+");
    try {
      fs.writeSync(fd, "abcdef");
      const buf = Buffer.alloc(16);
      expect(fs.readSync(fd, buf, 0, 16, 0)).toBe(6);
      await lazy.loseUnsynced();
      expect(fs.fstatSync(fd).size).toBe(0);
      expect(fs.readSync(fd, buf, 0, 16, 0)).toBe(0);
    } finally {
      fs.closeSync(fd);
    }
  });

  it("keeps what was fsynced or fdatasynced through a loss, and loses only the later writes", async () => {
    for (const [name, sync] of [
      ["fsynced", fs.fsyncSync],
      ["fdatasynced", fs.fdatasyncSync],
    ] as const) {
      const fd = fs.openSync(onMount(name), "w");
      fs.writeSync(fd, "durable;");
      sync(fd);
      expect(fs.readFileSync(onBacking(name), "utf8")).toBe("durable;");
      fs.writeSync(fd, "lost");
      fs.closeSync(fd); // close is no sync
    }
    expect(await lazy.loseUnsynced()).toEqual({ files: 2, bytes: 8 });
    expect(fs.readFileSync(onMount("fsynced"), "utf8")).toBe("durable;");
    expect(fs.readFileSync(onMount("fdatasynced"), "utf8")).toBe("durable;");
  });

  it("keeps a file written to a temp name, fsynced, renamed and its folder fsynced; an unsynced rename target comes back empty", async () => {
    fs.mkdirSync(onMount("atomic"));
    const whole = "x".repeat(10_000);
    const fd = fs.openSync(onMount("atomic", "state.tmp"), "w");
    fs.writeSync(fd, whole);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(onMount("atomic", "state.tmp"), onMount("atomic", "state"));
    const dir = fs.openSync(onMount("atomic"), "r");
    fs.fsyncSync(dir);
    fs.closeSync(dir);
    // The same without the file's fsync: the rename moves its unsynced data along.
    fs.writeFileSync(onMount("atomic", "careless.tmp"), whole);
    fs.renameSync(onMount("atomic", "careless.tmp"), onMount("atomic", "careless"));
    expect(fs.readFileSync(onMount("atomic", "careless"), "utf8")).toBe(whole);

    expect(await lazy.loseUnsynced()).toEqual({ files: 1, bytes: whole.length });
    expect(fs.readdirSync(onMount("atomic")).sort()).toEqual(["careless", "state"]);
    expect(fs.readFileSync(onMount("atomic", "state"), "utf8")).toBe(whole);
    expect(fs.statSync(onMount("atomic", "careless")).size).toBe(0);
  });

  it("matches a model of one file through random overlapping writes, truncates, syncs and losses", async () => {
    let state = 20261201;
    const random = (n: number) => {
      state = (state * 1103515245 + 12345) % 2 ** 31;
      return state % n;
    };
    const resized = (b: Buffer, size: number) =>
      size <= b.length
        ? Buffer.from(b.subarray(0, size))
        : Buffer.concat([b, Buffer.alloc(size - b.length)]);
    const file = onMount("model");
    const fd = fs.openSync(file, "w+");
    let current = Buffer.alloc(0); // what the mount must show
    let durable = Buffer.alloc(0); // what must survive a loss
    const ops = { writes: 0, truncates: 0, syncs: 0, losses: 0 };
    try {
      for (let step = 0; step < 400; step++) {
        const what = random(100);
        if (what < 60) {
          // Writes before, across, inside, just after and far past the cached runs.
          const off = random(current.length + 3000);
          const data = Buffer.alloc(1 + random(4000));
          for (let i = 0; i < data.length; i++) data[i] = (step * 31 + i) & 0xff;
          fs.writeSync(fd, data, 0, data.length, off);
          current = resized(current, Math.max(current.length, off + data.length));
          data.copy(current, off);
          ops.writes++;
        } else if (what < 75) {
          const size = random(current.length + 3000);
          fs.ftruncateSync(fd, size);
          current = resized(current, size);
          ops.truncates++;
        } else if (what < 90) {
          fs.fdatasyncSync(fd);
          durable = Buffer.from(current);
          expect(fs.readFileSync(onBacking("model")).equals(durable)).toBe(true);
          ops.syncs++;
        } else {
          await lazy.loseUnsynced();
          current = Buffer.from(durable);
          ops.losses++;
        }
        expect(fs.fstatSync(fd).size).toBe(current.length);
        const seen = Buffer.alloc(current.length + 100);
        const n = fs.readSync(fd, seen, 0, seen.length, 0);
        expect(n).toBe(current.length);
        expect(seen.subarray(0, n).equals(current), `step ${step}`).toBe(true);
      }
    } finally {
      fs.closeSync(fd);
    }
    expect(Math.min(ops.writes, ops.truncates, ops.syncs, ops.losses)).toBeGreaterThan(10);
    await lazy.loseUnsynced();
  });

  it("keeps the node's durable log through a loss: awaited appends and a compaction survive, an unsynced tail does not", async () => {
    const dir = onMount("node-log");
    const { log } = await DurableLog.open(dir);
    await log.append([{ n: 1 }, { n: 2 }]);
    await Promise.all([log.append([{ n: 3 }]), log.append([{ n: 4 }])]);
    // Every append was awaited, so nothing of the log is unsynced.
    expect(await lazy.status()).toEqual({ files: 0, bytes: 0 });
    // A frame written behind the log's back, without a sync: a crash's torn batch.
    const stray = encodeRecord({ n: "unsynced" });
    fs.appendFileSync(path.join(dir, "log"), stray);
    expect(await lazy.loseUnsynced()).toEqual({ files: 1, bytes: stray.length });
    await log.close();

    const reopened = await DurableLog.open(dir);
    expect(reopened.records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(reopened.truncatedBytes).toBe(0);
    await reopened.log.startSegment([{ snapshot: 4 }]);
    await reopened.log.append([{ n: 5 }]);
    expect(await lazy.loseUnsynced()).toEqual({ files: 0, bytes: 0 });
    await reopened.log.close();
    const last = await DurableLog.open(dir);
    expect(last.records).toEqual([{ snapshot: 4 }, { n: 5 }]);
    await last.log.close();
  });

  it("keeps the node's log through a loss in the middle of a compaction: both segments whole, the new one's unsynced tail gone", async () => {
    const dir = onMount("node-log-compacting");
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    const { log } = await DurableLog.open(dir, {
      removeFile: async (file) => {
        await held;
        fs.rmSync(file, { force: true });
      },
    });
    await log.append([{ n: 1 }, { n: 2 }]);
    await log.startSegment([{ carry: 2 }, { snapshot: 2 }]);
    await log.append([{ n: 3 }]);
    const stray = encodeRecord({ n: "unsynced" });
    fs.appendFileSync(path.join(dir, "log.00000001"), stray);
    expect(await lazy.loseUnsynced()).toEqual({ files: 1, bytes: stray.length });
    // The old segment's deletion is still held up: a restart now would read both.
    expect(fs.readdirSync(dir).sort()).toEqual(["log", "log.00000001"]);
    const during = await DurableLog.open(dir);
    expect(during.records).toEqual([{ n: 1 }, { n: 2 }, { carry: 2 }, { snapshot: 2 }, { n: 3 }]);
    expect(during.truncatedBytes).toBe(0);
    await during.log.close();
    release();
    await log.close();
    expect(await lazy.loseUnsynced()).toEqual({ files: 0, bytes: 0 });
    expect(fs.readdirSync(dir)).toEqual(["log.00000001"]);
    const after = await DurableLog.open(dir);
    expect(after.records).toEqual([{ carry: 2 }, { snapshot: 2 }, { n: 3 }]);
    await after.log.close();
  });

  it("loses what a SIGKILLed writer wrote only with loseUnsynced(): SIGKILL alone keeps it", async () => {
    const file = onMount("killed-writer");
    const data = "y".repeat(5000);
    const script =
      "const fs = require('fs'); const fd = fs.openSync(process.argv[1], 'w');" +
      `fs.writeSync(fd, 'y'.repeat(${data.length})); process.stdout.write('written\\n');` +
      "setInterval(() => {}, 1000);";
    const child = spawn(process.execPath, ["-e", script, file], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout.on("data", (b: Buffer) => b.toString().includes("written") && resolve());
      child.on("exit", (code) => reject(new Error(`the writer exited early (${code})`)));
    });
    child.kill("SIGKILL");
    expect(await waitGone(child.pid!, 5000)).toBe(true);
    // SIGKILL alone: like the kernel's page cache, the daemon still has it.
    expect(fs.readFileSync(file, "utf8")).toBe(data);
    expect(await lazy.loseUnsynced()).toEqual({ files: 1, bytes: data.length });
    expect(fs.readFileSync(file, "utf8")).toBe("");
  });

  it("makes each fsync take --sync-delay-ms, the data unsynced until it is over", async () => {
    const slow = await mountNamed("slow", undefined, 80);
    try {
      const fd = fs.openSync(path.join(slow.mountpoint, "f"), "w");
      fs.writeSync(fd, "slow disk");
      const started = performance.now();
      const synced = new Promise<void>((resolve, reject) =>
        fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())),
      );
      // Half-way through the flush the data is still only in the daemon.
      await new Promise((r) => setTimeout(r, 30));
      expect(fs.statSync(path.join(slow.backing, "f")).size).toBe(0);
      expect(await slow.status()).toEqual({ files: 1, bytes: 9 });
      await synced;
      expect(performance.now() - started).toBeGreaterThanOrEqual(75);
      expect(fs.readFileSync(path.join(slow.backing, "f"), "utf8")).toBe("slow disk");
      fs.closeSync(fd);
    } finally {
      await slow.unmount();
    }
  });

  it("writes everything back at unmount, and the daemon exits", async () => {
    const other = await mountNamed("flush");
    fs.writeFileSync(path.join(other.mountpoint, "f"), "kept by a clean unmount");
    expect(fs.statSync(path.join(other.backing, "f")).size).toBe(0);
    await other.unmount();
    expect(isMounted(other.mountpoint)).toBe(false);
    expect(await waitGone(other.pid, 1000)).toBe(true);
    expect(fs.readFileSync(path.join(other.backing, "f"), "utf8")).toBe("kept by a clean unmount");
  });

  it("writes everything back and fsyncs it on syncAll()", async () => {
    fs.writeFileSync(onMount("sync-all-a"), "aaa");
    fs.writeFileSync(onMount("sync-all-b"), "bb");
    expect(await lazy.syncAll()).toEqual({ files: 2, bytes: 5 });
    expect(fs.readFileSync(onBacking("sync-all-a"), "utf8")).toBe("aaa");
    expect(await lazy.loseUnsynced()).toEqual({ files: 0, bytes: 0 });
    expect(fs.readFileSync(onMount("sync-all-b"), "utf8")).toBe("bb");
  });

  it("sweeps a mount whose owner is dead, and leaves a live owner's mount alone", async () => {
    const dead = spawnSync("true").pid;
    expect(await waitGone(dead, 1000)).toBe(true);
    const orphan = await mountNamed("orphan", `paxos-lazyfs-${dead}-1-test-orphan`);
    fs.writeFileSync(path.join(orphan.mountpoint, "f"), "left behind");
    // Only this test's fake owner counts as dead: other runs' mounts are none of its business.
    const swept = await sweepLazyFsMounts((o) => !(o.pid === dead && o.startTime === "1"));
    expect(swept.mounts).toEqual([orphan.mountpoint]);
    expect(swept.dirs).toHaveLength(1);
    expect(isMounted(orphan.mountpoint)).toBe(false);
    expect(await waitGone(orphan.pid, 5000)).toBe(true);
    expect(isMounted(lazy.mountpoint)).toBe(true);
    await orphan.unmount(); // already gone: only tidies up
    await expect(orphan.loseUnsynced()).rejects.toThrow(/exited|unmounted/);
  });

  it("names in one line what a machine without the build tools lacks, and how to install it", async () => {
    expect(await lazyFsUnavailable()).toBeUndefined();
    const saved = process.env.PATH;
    process.env.PATH = fs.mkdtempSync(path.join(work, "empty-path-"));
    try {
      const why = await lazyFsUnavailable();
      expect(why).toBe(
        "lazyfs (the power-loss fault) needs gcc pkg-config libfuse3-dev fuse3, not installed: " +
          "apt-get install gcc pkg-config libfuse3-dev fuse3 " +
          "(as root, `node scripts/setup.mjs test` installs them)",
      );
    } finally {
      process.env.PATH = saved;
    }
  });

  it("refuses a tag that is not lazyFsTag()'s, a second mount on the same place, and a sync delay that is none", async () => {
    await expect(
      mountLazyFs({ backing: onBacking(), mountpoint: path.join(work, "x"), tag: "mine,rw" }),
    ).rejects.toThrow(/tag/);
    await expect(
      mountLazyFs({ backing: path.join(work, "y"), mountpoint: lazy.mountpoint, tag: lazy.tag }),
    ).rejects.toThrow(/already a lazyfs mount/);
    for (const syncDelayMs of [-1, Number.NaN]) {
      await expect(
        mountLazyFs({
          backing: onBacking(),
          mountpoint: path.join(work, "z"),
          tag: lazy.tag,
          syncDelayMs,
        }),
      ).rejects.toThrow(/syncDelayMs/);
    }
  });

  it("never shows a size smaller than written while an fsync writes the file back (stat races the write-back)", async () => {
    const file = onMount("size-race");
    const handle = await fs.promises.open(file, "w+");
    const chunk = Buffer.alloc(2 << 20, 7);
    let size = 0;
    const seen: number[] = [];
    try {
      for (let round = 0; round < 20; round++) {
        // A long run, then a byte far past it: the write-back extends the file in steps.
        await handle.write(chunk, 0, chunk.length, size);
        size += chunk.length + (1 << 20);
        await handle.write(Buffer.from("!"), 0, 1, size);
        size += 1;
        const synced = handle.datasync();
        const stats = Array.from({ length: 8 }, () => fs.promises.stat(file));
        for (const st of await Promise.all(stats)) seen.push(st.size - size);
        await synced;
      }
    } finally {
      await handle.close();
    }
    expect(seen.filter((d) => d !== 0)).toEqual([]);
    await lazy.loseUnsynced();
  });

  it("forgets a file written after its last name went, once its last handle closes", async () => {
    const fd = fs.openSync(onMount("unlinked-then-written"), "w+");
    fs.unlinkSync(onMount("unlinked-then-written"));
    fs.writeSync(fd, "nobody will ever see this");
    expect(await lazy.status()).toEqual({ files: 1, bytes: 25 });
    fs.closeSync(fd);
    // The kernel sends the release after close() returns.
    const deadline = Date.now() + 2000;
    while ((await lazy.status()).files > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(await lazy.status()).toEqual({ files: 0, bytes: 0 });
  });

  it("keeps a file's modification time through its fsync: the time of its last write, or the one set on it", async () => {
    const fd = fs.openSync(onMount("mtime"), "w");
    try {
      fs.writeSync(fd, "a");
      const written = fs.fstatSync(fd).mtimeMs;
      await new Promise((r) => setTimeout(r, 20));
      fs.fsyncSync(fd);
      expect(fs.statSync(onMount("mtime")).mtimeMs).toBe(written);
      fs.writeSync(fd, "b");
      fs.futimesSync(fd, 1000, 1000); // as rsync or tar do after writing
      fs.fsyncSync(fd);
      expect(fs.statSync(onMount("mtime")).mtimeMs).toBe(1_000_000);
      expect(fs.statSync(onBacking("mtime")).mtimeMs).toBe(1_000_000);
    } finally {
      fs.closeSync(fd);
    }
  });

  it("fails the fsync of data the backing disk has no room for, keeps it unsynced, and fails the unmount that cannot write it back", async () => {
    const dir = path.join(work, "full");
    fs.mkdirSync(path.join(dir, "backing"), { recursive: true });
    const tmpfs = spawnSync("mount", [
      "-t",
      "tmpfs",
      "-o",
      "size=1m",
      "tmpfs",
      path.join(dir, "backing"),
    ]);
    expect(tmpfs.status).toBe(0);
    try {
      const full = await mountNamed("full");
      try {
        const fd = fs.openSync(path.join(full.mountpoint, "big"), "w");
        fs.writeSync(fd, Buffer.alloc(2 << 20, 1)); // in memory: no error yet
        expect(() => fs.fsyncSync(fd)).toThrow(/ENOSPC/);
        fs.closeSync(fd);
        expect(await full.status()).toEqual({ files: 1, bytes: 2 << 20 });
      } finally {
        await expect(full.unmount()).rejects.toThrow(/No space left on device/);
      }
      expect(isMounted(full.mountpoint)).toBe(false);
    } finally {
      spawnSync("umount", [path.join(dir, "backing")]);
    }
  });

  it("leaves alone what else is mounted where a mount of its own failed", async () => {
    const place = path.join(work, "occupied");
    fs.mkdirSync(place, { recursive: true });
    expect(spawnSync("mount", ["-t", "tmpfs", "tmpfs", place]).status).toBe(0);
    const mountedHere = () =>
      fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter((l) => l.split(" ")[4] === place)
        .map((l) => l.split(" - ")[1]?.split(" ")[0]);
    try {
      // Gives up at once, as on a machine too slow to mount in time; on a busy machine the
      // daemon may still win the race (then it is unmounted and tried again).
      let failed: Error | undefined;
      for (let attempt = 0; attempt < 10 && failed === undefined; attempt++) {
        const options = {
          backing: path.join(work, "occupied-backing"),
          mountpoint: place,
          tag: lazyFsTag("test-occupied"),
          timeoutMs: -1,
        };
        await mountLazyFs(options).then(
          // Its unmount waits -1 ms for the daemon too: it rejects, the daemon killed.
          (mounted) => mounted.unmount().catch(() => {}),
          (error: Error) => {
            failed = error;
          },
        );
      }
      expect(failed?.message).toMatch(/not mounted after/);
      expect(mountedHere()).toEqual(["tmpfs"]);
    } finally {
      spawnSync("umount", [place]);
    }
  });

  it("never takes a late reply for the answer to a later command", async () => {
    // A daemon of the test's own: it answers the first command only after its time-out.
    const dir = fs.mkdtempSync(path.join(work, "channel-"));
    const [commands, replies] = [path.join(dir, "control"), path.join(dir, "reply")];
    expect(spawnSync("mkfifo", [commands, replies]).status).toBe(0);
    const daemonEnds = [fs.openSync(commands, "r+"), fs.openSync(replies, "r+")];
    const channel = new ControlChannel(commands, replies, 100);
    try {
      await expect(channel.send("lose-unsynced")).rejects.toThrow(/no reply to lose-unsynced/);
      fs.writeSync(daemonEnds[1]!, '{"cmd":"lose-unsynced","files":1,"bytes":7}\n');
      const next = channel.send("status");
      fs.writeSync(daemonEnds[1]!, '{"cmd":"status","files":0,"bytes":0}\n');
      const answer = await next.catch((error: Error) => error);
      if (!(answer instanceof Error)) expect(answer).toEqual({ files: 0, bytes: 0 });
    } finally {
      channel.close("test over");
      for (const fd of daemonEnds) fs.closeSync(fd);
    }
  });

  it("sweeps a dead owner's mount only once nothing covers it (unmounting its path would take the cover)", async () => {
    const dead = spawnSync("true").pid;
    expect(await waitGone(dead, 1000)).toBe(true);
    const orphan = await mountNamed("covered", `paxos-lazyfs-${dead}-1-test-covered`);
    const deadOnly = (o: { pid: number; startTime: string }) =>
      !(o.pid === dead && o.startTime === "1");
    expect(spawnSync("mount", ["-t", "tmpfs", "tmpfs", orphan.mountpoint]).status).toBe(0);
    let coverOn = true;
    try {
      const swept = await sweepLazyFsMounts(deadOnly);
      expect(swept).toEqual({ mounts: [], killed: [], dirs: [] });
      const here = fs
        .readFileSync("/proc/self/mountinfo", "utf8")
        .split("\n")
        .filter((l) => l.split(" ")[4] === orphan.mountpoint);
      expect(here.map((l) => l.split(" - ")[1]?.split(" ")[0])).toEqual(["fuse", "tmpfs"]);
      expect(spawnSync("umount", [orphan.mountpoint]).status).toBe(0);
      coverOn = false;
      expect((await sweepLazyFsMounts(deadOnly)).mounts).toEqual([orphan.mountpoint]);
      expect(await waitGone(orphan.pid, 5000)).toBe(true);
    } finally {
      if (coverOn) spawnSync("umount", [orphan.mountpoint]);
      await orphan.unmount();
    }
  });
});
