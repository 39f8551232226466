import { execFile } from 'node:child_process';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

/**
 * The check library's value flow (src/grading/python/envbench_check/flow.py): helpers that return values,
 * functools.partial, kwargs dicts, calls reached through helpers a loop calls. Each case is Python source and a
 * query; test/grading/check-flow/driver.py answers them all in one interpreter.
 */
const python = process.env.ENVBENCH_PYTHON ?? '/usr/bin/python3';
const driver = path.join(import.meta.dirname, 'check-flow', 'driver.py');

interface Case { name: string; source: string; query: string; call?: string; kw?: string; max_depth?: number; want: unknown }

const PARTIAL_HEAD = 'import functools\nfrom functools import partial\nfrom torch.distributed.fsdp.wrap import lambda_auto_wrap_policy as lawp\n';
const LAMBDA = ['torch.distributed.fsdp.wrap.lambda_auto_wrap_policy', { lambda_fn: 'f' }];

const CASES: Case[] = [
  // -- helpers that return values, and functools.partial ------------------------------------------------------
  { name: 'a helper returning functools.partial', query: 'partial', call: 'FSDP', kw: 'auto_wrap_policy', want: [LAMBDA],
    source: `${PARTIAL_HEAD}def make_policy():\n    return functools.partial(lawp, lambda_fn=f)\npolicy = make_policy()\nm = FSDP(m, auto_wrap_policy=policy)\n` },
  { name: 'partial imported by name, the helper called inline', query: 'partial', call: 'FSDP', kw: 'auto_wrap_policy', want: [LAMBDA],
    source: `${PARTIAL_HEAD}def get_policy():\n    p = partial(lawp, lambda_fn=f)\n    return p\nm = FSDP(m, auto_wrap_policy=get_policy())\n` },
  { name: 'the lambda_fn passed in as a parameter is bound to the argument', query: 'lambda_fn', call: 'FSDP', kw: 'auto_wrap_policy', want: ['should_wrap'],
    source: `${PARTIAL_HEAD}def should_wrap(m):\n    return True\ndef make_policy(fn, extra=None):\n    return partial(lawp, lambda_fn=fn)\nm = FSDP(m, auto_wrap_policy=make_policy(should_wrap))\n` },
  { name: 'a keyword argument binds by name; a default fills the rest', query: 'lambda_fn', call: 'FSDP', kw: 'auto_wrap_policy', want: ['dflt'],
    source: `${PARTIAL_HEAD}def dflt(m):\n    return True\ndef make_policy(size=1, fn=dflt):\n    return partial(lawp, lambda_fn=fn)\nm = FSDP(m, auto_wrap_policy=make_policy(size=3))\n` },
  { name: 'nested partials merge their keywords', query: 'partial', call: 'FSDP', kw: 'auto_wrap_policy',
    want: [['torch.distributed.fsdp.wrap.lambda_auto_wrap_policy', { lambda_fn: 'f', x: '2' }]],
    source: `${PARTIAL_HEAD}inner = partial(lawp, x=1, lambda_fn=g)\nouter = functools.partial(inner, lambda_fn=f, x=2)\nm = FSDP(m, auto_wrap_policy=outer)\n` },
  { name: 'partial keywords from a ** dict', query: 'partial', call: 'FSDP', kw: 'auto_wrap_policy', want: [LAMBDA],
    source: `${PARTIAL_HEAD}kw = {"lambda_fn": f}\nm = FSDP(m, auto_wrap_policy=partial(lawp, **kw))\n` },
  { name: 'every return of a helper, and None when it can end without one', query: 'values', call: 'FSDP', kw: 'auto_wrap_policy',
    want: ['a', 'None'], source: 'def get():\n    if flag:\n        return a\nm = FSDP(m, auto_wrap_policy=get())\n' },
  { name: 'a return after an unconditional return is dead', query: 'returns', call: 'get', want: [['None'], false],
    source: 'def get():\n    return None\n    return partial(lawp, lambda_fn=f)\n' },
  { name: 'both branches of an if/else return: nothing falls off', query: 'returns', call: 'get', want: [['a', 'b'], false],
    source: 'def get():\n    if x:\n        return a\n    else:\n        return b\n' },
  { name: 'returns inside a nested def are not the helper\'s', query: 'returns', call: 'get', want: [['inner'], false],
    source: 'def get():\n    def inner():\n        return 1\n    return inner\n' },
  { name: 'a helper returning a nested def gives that def', query: 'values', call: 'FSDP', kw: 'auto_wrap_policy',
    want: ['def policy(m, r, n):\n    return lawp(m, r, n, lambda_fn=f)'],
    source: 'def get():\n    def policy(m, r, n):\n        return lawp(m, r, n, lambda_fn=f)\n    return policy\nm = FSDP(m, auto_wrap_policy=get())\n' },
  { name: 'tuple unpacking of what a helper returns: the element at that position', query: 'partial', call: 'FSDP', kw: 'auto_wrap_policy', want: [LAMBDA],
    source: `${PARTIAL_HEAD}def get_policies(cfg):\n    mp = None\n    return mp, partial(lawp, lambda_fn=f)\nmixed, wrapping = get_policies(cfg)\nm = FSDP(m, auto_wrap_policy=wrapping, mixed_precision=mixed)\n` },
  { name: 'tuple unpacking of something that is not a tuple literal stays opaque', query: 'values', call: 'FSDP', kw: 'auto_wrap_policy', want: ['b'],
    source: 'def get():\n    return pair\na, b = get()\nc, *d = get()\nm = FSDP(m, auto_wrap_policy=b)\n' },
  { name: 'a ternary gives both arms', query: 'values', call: 'FSDP', kw: 'auto_wrap_policy', want: ['a', 'b'],
    source: 'p = a if c else b\nm = FSDP(m, auto_wrap_policy=p)\n' },
  { name: 'a name rebound later in straight-line code: only the binding that reaches the use', query: 'values', call: 'DataLoader', kw: 'sampler',
    want: ['None'], source: 'def main():\n    s = DistributedSampler(ds)\n    s = None\n    DataLoader(ds, sampler=s)\n    s = RandomSampler(ds)\nmain()\n' },
  { name: 'a rebinding inside a branch adds a possibility', query: 'values', call: 'DataLoader', kw: 'sampler',
    want: ['None', 'DistributedSampler(ds)'], source: 'def main():\n    s = None\n    if distributed:\n        s = DistributedSampler(ds)\n    DataLoader(ds, sampler=s)\nmain()\n' },
  { name: 'x = x: the x on the right is the earlier binding', query: 'values', call: 'use', want: ['0'],
    source: 'x = 0\nx = x\nuse(x)\n' },
  { name: 'a parameter with no call context: the arguments of every call', query: 'values', call: 'DataLoader', kw: 'sampler',
    want: ['DistributedSampler(ds)', 'None'],
    source: 'def build(ds, s):\n    return DataLoader(ds, sampler=s)\nbuild(ds, DistributedSampler(ds))\nbuild(ds, s=None)\n' },

  // -- kwargs dicts ---------------------------------------------------------------------------------------------
  { name: 'the examples\' idiom: train_kwargs built, updated, then **', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'def main():\n    sampler1 = DistributedSampler(ds)\n    train_kwargs = {"batch_size": 8, "sampler": sampler1}\n    cuda_kwargs = {"num_workers": 2, "pin_memory": True, "shuffle": False}\n    train_kwargs.update(cuda_kwargs)\n    loader = DataLoader(ds, **train_kwargs)\nmain()\n' },
  { name: 'kw.update({...}), kw[k] = v and dict(...)', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 's = DistributedSampler(ds)\nkw = dict(batch_size=8)\nkw.update({"sampler": None})\nkw["sampler"] = s\nDataLoader(ds, **kw)\n' },
  { name: 'kw.update(sampler=...) after the item write replaces it', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['RandomSampler(ds)'],
    source: 'kw = {"sampler": DistributedSampler(ds)}\nkw.update(sampler=RandomSampler(ds))\nDataLoader(ds, **kw)\n' },
  { name: 'a key overwritten with None before the call', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'kw = {"batch_size": 8, "sampler": DistributedSampler(ds)}\nkw["sampler"] = None\nDataLoader(ds, **kw)\n' },
  { name: 'a write after the call does not count', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'kw = {"sampler": None}\nDataLoader(ds, **kw)\nkw["sampler"] = DistributedSampler(ds)\n' },
  { name: 'del and pop remove a key', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: [],
    source: 'kw = {"sampler": DistributedSampler(ds), "shuffle": False}\ndel kw["sampler"]\nkw2 = dict(kw, sampler=DistributedSampler(ds))\nkw2.pop("sampler")\nDataLoader(ds, **kw)\nDataLoader(ds, **kw2)\n' },
  { name: 'a dict reassigned from scratch forgets its keys', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: [],
    source: 'kw = {"sampler": DistributedSampler(ds)}\nkw = {"batch_size": 8}\nDataLoader(ds, **kw)\n' },
  { name: 'a dict built by a helper, spreads and | merges', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'def loader_kwargs(s):\n    base = {"batch_size": 8}\n    return {**base, "sampler": s}\nkw = loader_kwargs(DistributedSampler(ds)) | {"num_workers": 2}\nDataLoader(ds, **kw)\n' },
  { name: 'a dict that is never passed does not reach the call', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: [],
    source: 'train_kwargs = {"sampler": DistributedSampler(ds)}\nloader_kwargs = {"batch_size": 8}\nDataLoader(ds, **loader_kwargs)\n' },
  { name: 'a dict passed through a helper\'s parameter', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'def make(ds, kwargs):\n    return DataLoader(ds, **kwargs)\ndef main():\n    kw = {}\n    kw["sampler"] = DistributedSampler(ds)\n    make(ds, kw)\nmain()\n' },
  { name: 'a helper that builds the kwargs dict key by key, under a branch, and returns it', query: 'keyword', call: 'DataLoader', kw: 'sampler',
    want: ['DistributedSampler(dataset, shuffle=mode == \'train\')'],
    source: 'def get_dataloader_kwargs(cfg, dataset, mode):\n    kwargs = {}\n    if cfg.enable_fsdp:\n        kwargs["sampler"] = DistributedSampler(dataset, shuffle=mode == "train")\n    kwargs["batch_size"] = cfg.batch_size\n    return kwargs\ndef main():\n    dl_kwargs = get_dataloader_kwargs(cfg, ds, "train")\n    DataLoader(ds, num_workers=1, **dl_kwargs)\nmain()\n' },
  { name: 'a module-level dict changed at module level, used inside a function', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['RandomSampler(ds)'],
    source: 'KW = {"sampler": DistributedSampler(ds)}\nKW["sampler"] = RandomSampler(ds)\ndef main():\n    DataLoader(ds, **KW)\nmain()\n' },
  { name: 'an explicit keyword beside **kw', query: 'keyword', call: 'DataLoader', kw: 'shuffle', want: ['True'],
    source: 'kw = {"batch_size": 8}\nDataLoader(ds, shuffle=True, **kw)\n' },
  { name: 'an overwrite in dead code after a return does not count', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'def main():\n    kw = {"sampler": DistributedSampler(ds)}\n    DataLoader(ds, **kw)\n    return\n    kw["sampler"] = None\nmain()\n' },

  // -- calls through helpers a loop calls --------------------------------------------------------------------------
  { name: 'set_epoch in a train helper the epoch loop calls, the epoch bound to the loop variable', query: 'loop_calls', kw: 'set_epoch',
    want: [['sampler.set_epoch(epoch)', true]],
    source: 'def train(model, loader, sampler, epoch):\n    sampler.set_epoch(epoch)\n    for x in loader:\n        pass\ndef main():\n    for epoch in range(3):\n        train(model, loader, sampler, epoch)\nmain()\n' },
  { name: 'the examples\' sampler=keyword with an `if sampler:` guard', query: 'loop_calls', kw: 'set_epoch',
    want: [['sampler.set_epoch(epoch)', true]],
    source: 'def train(args, model, rank, world_size, loader, optimizer, epoch, sampler=None):\n    if sampler:\n        sampler.set_epoch(epoch)\nfor epoch in range(1, 3 + 1):\n    train(args, model, 0, 1, loader, opt, epoch, sampler=s1)\n' },
  { name: 'two helpers deep, through a computed local', query: 'loop_calls', kw: 'set_epoch', want: [['s.set_epoch(e)', true]],
    source: 'def inner(s, n):\n    e = n * 2\n    s.set_epoch(e)\ndef outer(s, n):\n    inner(s, n)\nfor ep in range(3):\n    outer(sampler, ep + 1)\n' },
  { name: 'a helper the loop calls with a constant: reached, not from the epoch', query: 'loop_calls', kw: 'set_epoch',
    want: [['sampler.set_epoch(epoch)', false]],
    source: 'def train(sampler, epoch):\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    train(sampler, 0)\n' },
  { name: 'a helper called only after the loop is not reached from it', query: 'loop_calls', kw: 'set_epoch', want: [],
    source: 'def start(sampler, epoch):\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    step()\nstart(sampler, epoch)\n' },
  { name: 'a helper never called is not reached', query: 'loop_calls', kw: 'set_epoch', want: [],
    source: 'def start(sampler, epoch):\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    pass\n' },
  { name: 'a set_epoch after the helper\'s return is dead', query: 'loop_calls', kw: 'set_epoch', want: [],
    source: 'def train(sampler, epoch):\n    return\n    sampler.set_epoch(epoch)\nfor epoch in range(3):\n    train(sampler, epoch)\n' },
  { name: 'a while loop\'s counter', query: 'loop_calls', kw: 'set_epoch', want: [['loader.sampler.set_epoch(i)', true]],
    source: 'def go(loader, i):\n    loader.sampler.set_epoch(i)\ne = 0\nwhile e < 3:\n    go(loader, e)\n    e += 1\n' },

  // -- aliases of a dict within a scope ------------------------------------------------------------------------
  { name: 'a write through an alias is a write to the dict', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'kw = {"sampler": s}\na = kw\na["sampler"] = None\nDataLoader(ds, **kw)\n' },
  { name: 'the alias passed on sees a later write through the original name', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'kw = {"sampler": s}\na = kw\nkw["sampler"] = None\nDataLoader(ds, **a)\n' },
  { name: 'a chain of aliases, written through with update()', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'kw = {"sampler": s}\na = kw\nb = a\nb.update(sampler=None)\nDataLoader(ds, **kw)\n' },
  { name: 'a copy (dict(kw)) is its own dict', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['s'],
    source: 'kw = {"sampler": s}\na = dict(kw)\na["sampler"] = None\nDataLoader(ds, **kw)\n' },
  { name: 'an alias rebound to a new dict no longer shares', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['s'],
    source: 'kw = {"sampler": s}\na = kw\na = {}\na["sampler"] = None\nDataLoader(ds, **kw)\n' },
  { name: 'an alias made in one branch only: its writes add a possibility', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None', 's'],
    source: 'kw = {"sampler": s}\nif c:\n    a = kw\nelse:\n    a = {}\na["sampler"] = None\nDataLoader(ds, **kw)\n' },
  { name: 'aliases inside a function, the dict passed from a helper call', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'def main():\n    train_kwargs = {"batch_size": 8}\n    kw = train_kwargs\n    kw["sampler"] = DistributedSampler(ds)\n    DataLoader(ds, **train_kwargs)\n' },

  // -- classes: methods through self and instances, attributes the methods assign ---------------------------------
  { name: 'self.x assigned in __init__ and read later in __init__', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n        self.dl = DataLoader(ds, sampler=self.s)\n' },
  { name: 'self.x read in another method: every assignment of the class', query: 'keyword', call: 'DataLoader', kw: 'sampler',
    want: ['DistributedSampler(ds)', 'None'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = None\n    def setup(self, ds):\n        self.s = DistributedSampler(ds)\n    def loader(self, ds):\n        return DataLoader(ds, sampler=self.s)\n' },
  { name: 'self.x overwritten in straight-line code before the read', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n        self.s = None\n        self.dl = DataLoader(ds, sampler=self.s)\n' },
  { name: 'self.x overwritten by a method called through self before the read', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n        self._reset()\n        self.dl = DataLoader(ds, sampler=self.s)\n    def _reset(self):\n        self.s = None\n' },
  { name: 'a method called in a branch only adds a possibility', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)', 'None'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n        if flag:\n            self._reset()\n        self.dl = DataLoader(ds, sampler=self.s)\n    def _reset(self):\n        self.s = None\n' },
  { name: 'a method called after the read does not change it', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n        self.dl = DataLoader(ds, sampler=self.s)\n        self._reset()\n    def _reset(self):\n        self.s = None\n' },
  { name: 'a class-level attribute; another attribute name is not it', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'class T:\n    train_sampler = None\n    def __init__(self, ds):\n        self.sampler = DistributedSampler(ds)\n        self.dl = DataLoader(ds, sampler=self.train_sampler)\n' },
  { name: 'an attribute of an instance built in the module', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'class Box:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\nb = Box(ds)\ndl = DataLoader(ds, sampler=b.s)\n' },
  { name: 'a method returning the loader, called through self', query: 'values', call: 'iter', want: ['DataLoader(ds, sampler=s)'],
    source: 'class T:\n    def make(self, ds, s):\n        return DataLoader(ds, sampler=s)\n    def run(self):\n        it = iter(self.make(ds, s))\n' },
  { name: 'an attribute set from a constructor argument: Cls(...) binds __init__\'s parameters', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'class T:\n    def __init__(self, ds, sampler):\n        self.sampler = sampler\n    def loader(self, ds):\n        return DataLoader(ds, sampler=self.sampler)\ndef main():\n    t = T(ds, DistributedSampler(ds))\n    t.loader(ds)\nmain()\n' },
  { name: 'the constructor handed None: the attribute is None, whatever was built beside it', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'class T:\n    def __init__(self, ds, sampler):\n        self.sampler = sampler\n    def loader(self, ds):\n        return DataLoader(ds, sampler=self.sampler)\ns = DistributedSampler(ds)\nt = T(ds, None)\nt.loader(ds)\n' },
  { name: 'a method\'s parameter binds to the arguments of its calls through self', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'class T:\n    def build(self, ds, sampler):\n        return DataLoader(ds, sampler=sampler)\n    def run(self, ds):\n        self.build(ds, DistributedSampler(ds))\n' },
  { name: 'the epoch loop calls a method through self (the tutorials\' Trainer)', query: 'loop_calls', kw: 'set_epoch', want: [['self.sampler.set_epoch(epoch)', true]],
    source: 'class Trainer:\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(epoch)\n' },
  { name: 'methods four deep through self', query: 'loop_calls', kw: 'set_epoch', want: [['self.s.set_epoch(e + 1)', true]],
    source: 'class T:\n    def train(self):\n        for ep in range(3):\n            self.a(ep)\n    def a(self, e):\n        self.b(e)\n    def b(self, e):\n        self.c(e)\n    def c(self, e):\n        self.d(e)\n    def d(self, e):\n        self.s.set_epoch(e + 1)\n' },
  { name: 'setattr(self, "s", None) is a write of self.s', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['None'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n        setattr(self, "s", None)\n        self.dl = DataLoader(ds, sampler=self.s)\n' },
  { name: 'a write through self.__dict__ makes the attribute opaque', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['self.s'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n        self.__dict__["s"] = None\n        self.dl = DataLoader(ds, sampler=self.s)\n' },
  { name: 'an attribute written from outside the class (t.s = None) is opaque', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['self.s'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n    def loader(self, ds):\n        return DataLoader(ds, sampler=self.s)\nt = T(ds)\nt.s = None\nt.loader(ds)\n' },
  { name: 'a call in a nested def that never runs does not replace the attribute', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['DistributedSampler(ds)'],
    source: 'class T:\n    def __init__(self, ds):\n        self.s = DistributedSampler(ds)\n        def later():\n            self._reset()\n        self.dl = DataLoader(ds, sampler=self.s)\n    def _reset(self):\n        self.s = None\n' },
  { name: 'a method replaced from outside the class (Cls.m = other) is not followed', query: 'loop_calls', kw: 'set_epoch', want: [],
    source: 'class Trainer:\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(epoch)\nTrainer._run_epoch = lambda self, epoch: None\nTrainer().train(3)\n' },
  { name: 'setattr with a computed name makes every attribute opaque', query: 'loop_calls', kw: 'set_epoch', want: [],
    source: 'class Trainer:\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(epoch)\nsetattr(Trainer, "_run" + "_epoch", lambda self, epoch: None)\nTrainer().train(3)\n' },
  { name: 'a method of the same name on another class is not the one called', query: 'loop_calls', kw: 'set_epoch', want: [],
    source: 'class Other:\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\nclass Trainer:\n    def _run_epoch(self, epoch):\n        pass\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(epoch)\n' },
  { name: 'a method called on an instance from a module-level loop, inherited from a base class', query: 'loop_calls', kw: 'set_epoch', want: [['self.s.set_epoch(e)', true]],
    source: 'class Base:\n    def step(self, e):\n        self.s.set_epoch(e)\nclass T(Base):\n    pass\nt = T()\nfor ep in range(3):\n    t.step(ep)\n' },
  { name: 'a staticmethod takes no self: arguments bind as written', query: 'loop_calls', kw: 'set_epoch', want: [['s.set_epoch(e)', true], ['s.set_epoch(e)', true]],
    source: 'class T:\n    @staticmethod\n    def step(s, e):\n        s.set_epoch(e)\n    def train(self):\n        for ep in range(3):\n            self.step(sampler, ep)\nfor ep in range(3):\n    T.step(sampler, ep)\n' },
  { name: 'Cls.method(obj, e) passes obj as self', query: 'loop_calls', kw: 'set_epoch', want: [['s.set_epoch(e)', true]],
    source: 'class T:\n    def step(self, s, e):\n        s.set_epoch(e)\nfor ep in range(3):\n    T.step(t, sampler, ep)\n' },
  { name: 'a constant passed to the method is not the epoch', query: 'loop_calls', kw: 'set_epoch', want: [['self.sampler.set_epoch(epoch)', false]],
    source: 'class Trainer:\n    def _run_epoch(self, epoch):\n        self.sampler.set_epoch(epoch)\n    def train(self, n):\n        for epoch in range(n):\n            self._run_epoch(0)\n' },

  // -- robustness: recursion, odd shapes, depth ----------------------------------------------------------------------
  { name: 'mutual recursion ends', query: 'loop_calls', kw: 'set_epoch', want: [['s.set_epoch(e)', true]],
    source: 'def a(s, e):\n    b(s, e)\n    s.set_epoch(e)\ndef b(s, e):\n    a(s, e)\nfor ep in range(2):\n    a(sampler, ep)\n' },
  { name: 'a self-referential name and a recursive helper end', query: 'values', call: 'FSDP', kw: 'auto_wrap_policy', want: ['get()'],
    source: 'def get():\n    return get()\np = p\np = get()\nm = FSDP(m, auto_wrap_policy=p)\n' },
  { name: 'a dict that updates itself from itself ends', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['s'],
    source: 'kw = {"sampler": s}\nkw.update(kw)\nkw = dict(kw)\nkw |= kw\nDataLoader(ds, **kw)\n' },
  { name: 'starred, lambda and class-scope odd shapes do not crash', query: 'values', call: 'FSDP', kw: 'auto_wrap_policy', want: ['lambda m: m'],
    source: 'class C:\n    p = 1\n    def m(self):\n        return p\nf = lambda m: m\ndef g(*a, **k):\n    return f\nm = FSDP(m, auto_wrap_policy=g(*xs, **{}))\n' },
  { name: 'attributes assigned from each other, and methods returning each other, end', query: 'keyword', call: 'DataLoader', kw: 'sampler', want: ['self.b()'] /* opaque where the depth bound stops */,
    source: 'class T:\n    def __init__(self):\n        self.s = self.s\n        self.t = self.s\n        self.s = self.t\n    def a(self):\n        return self.b()\n    def b(self):\n        return self.a()\n    def go(self):\n        DataLoader(ds, sampler=self.s or self.a())\n' },
  { name: 'a fan-out of methods calling methods through self stops at the step budget', query: 'budget', want: [true, true],
    source: ['class T:\n    def f0(self, s, e):\n        s.set_epoch(e)\n', ...[1, 2, 3, 4, 5, 6].map((i) => `    def f${i}(self, s, e):\n${`        self.f${i - 1}(s, e)\n`.repeat(20)}`),
      '    def train(self):\n        for epoch in range(3):\n            self.f6(sampler, epoch)\n'].join('') },
  { name: 'a fan-out of helpers (20 calls each, 6 deep: 64M paths) stops at the step budget', query: 'budget', want: [true, true],
    source: ['def f0(s, e):\n    s.set_epoch(e)\n', ...[1, 2, 3, 4, 5, 6].map((i) => `def f${i}(s, e):\n${`    f${i - 1}(s, e)\n`.repeat(20)}`),
      'for epoch in range(3):\n    f6(sampler, epoch)\n'].join('') },
  { name: 'an ordinary loop-called helper stays far inside the budget', query: 'budget', want: [false, true],
    source: 'def train(s, e):\n    s.set_epoch(e)\n    for b in loader:\n        step(b)\nfor epoch in range(3):\n    train(sampler, epoch)\n' },
  { name: 'depth is bounded: a chain longer than max_depth stops opaque', query: 'values', call: 'FSDP', kw: 'auto_wrap_policy', max_depth: 3,
    want: ['a1'], source: 'a0 = 1\na1 = a0\na2 = a1\na3 = a2\na4 = a3\nm = FSDP(m, auto_wrap_policy=a4)\n' },
];

type Result = { ok: unknown } | { error: string };

describe('envbench_check.flow: values through helpers, partial, kwargs dicts and loop-called helpers', () => {
  let results: Result[] = [];

  beforeAll(async () => {
    const input = JSON.stringify(CASES.map(({ want: _want, name: _name, ...c }) => c));
    const out = await new Promise<string>((resolve, reject) => {
      const child = execFile(python, [driver], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (e, stdout, stderr) =>
        e ? reject(new Error(`${e.message}\n${stderr.slice(-3000)}`)) : resolve(stdout));
      child.stdin!.end(input);
    });
    results = JSON.parse(out) as Result[];
  }, 150_000);

  it('answers every case', () => {
    expect(results).toHaveLength(CASES.length);
  });

  it.for(CASES.map((c, i) => [c.name, i] as const))('%s', ([, i]) => {
    const r = results[i]!;
    expect(r, JSON.stringify(r)).toHaveProperty('ok');
    const got = (r as { ok: unknown }).ok;
    const want = CASES[i]!.want;
    if (CASES[i]!.query === 'keyword') expect(got).toEqual([...(want as string[])].sort());
    else expect(got).toEqual(want);
  });
});
