"""Process-wide setup of a program that runs scatter's detector: CPU devices, caches, allocator.

Everything here changes the whole process, for every library in it, so it belongs at the start
of a program (before its first JAX computation), never inside a library call. The ``scatter``
command does it once in its entry point (:func:`scatter.cli.run_program`); a program of your
own that scores many files can do the same with :func:`configure`, or pick the parts:

- :func:`use_every_core`: split the host CPU into one JAX device per core. One XLA CPU device
  runs the scattering mostly on one core; :class:`scatter.detect.Detector` shards its batches
  over the local devices, so one device per core puts every core to work.
  ``SYMSCATTER_CPU_DEVICES=N`` sets the count (``1`` turns the split off); an
  ``XLA_FLAGS=--xla_force_host_platform_device_count=N`` already set is kept.
- :func:`enable_jax_cache` / :func:`disable_jax_cache`: JAX's persistent compilation cache, in
  ``JAX_COMPILATION_CACHE_DIR`` when set, else the ``jax`` folder of the package's cache
  (:func:`scatter.cache.cache_dir`), so that later runs skip the compilation.
- :func:`program_cache_dir`: where the detector keeps its compiled programs
  (:mod:`scatter.detect.programs`; pass it as ``load_model(..., program_cache=...)``). This one
  changes nothing global: the folder is an argument of the detector. The two caches do not mix:
  an executable that JAX loaded from its own cache cannot be saved to the program cache, so a
  program that uses the program cache turns JAX's cache off.
- :func:`reuse_large_allocations`: have glibc keep large freed buffers for reuse instead of
  returning them to the system (:mod:`scatter._malloc`; a third less CPU for ``scatter
  detect``). ``SYMSCATTER_KEEP_MALLOC=1`` keeps glibc's defaults.

``SYMSCATTER_NO_JAX_CACHE=1`` turns both caches off. The cache root moves with
``SYMSCATTER_CACHE_DIR`` (:mod:`scatter.cache`).

Example
-------
At the top of a script, before any JAX computation::

    import scatter.runtime
    scatter.runtime.configure(jax_cache=False)       # devices, allocator; JAX's cache off

    from scatter.detect import load_model
    det = load_model("default", program_cache=scatter.runtime.program_cache_dir())
"""

from __future__ import annotations

import os

from scatter._malloc import reuse_large_allocations
from scatter.cache import cache_dir
from scatter.errors import ScatterError, check_int

__all__ = ["CPU_DEVICES_VAR", "NO_CACHE_VAR", "caches_disabled", "configure",
           "cpu_device_count", "disable_jax_cache", "enable_jax_cache", "jax_cache_dir",
           "program_cache_dir", "reuse_large_allocations", "use_every_core"]

#: Set (to anything but the empty string) to turn off both compiled-program caches.
NO_CACHE_VAR = "SYMSCATTER_NO_JAX_CACHE"
#: The number of JAX CPU devices :func:`use_every_core` makes (``1``: no split).
CPU_DEVICES_VAR = "SYMSCATTER_CPU_DEVICES"
_JAX_CACHE_VAR = "JAX_COMPILATION_CACHE_DIR"
_XLA_DEVICE_FLAG = "xla_force_host_platform_device_count"
#: More CPU devices than this only adds overhead.
_MAX_CPU_DEVICES = 64


def caches_disabled():
    """Whether ``SYMSCATTER_NO_JAX_CACHE`` turns the compiled-program caches off.

    Returns
    -------
    bool
    """
    return bool(os.environ.get(NO_CACHE_VAR))


def program_cache_dir():
    """The folder of the detector's compiled programs, or None when caches are off.

    ``$JAX_COMPILATION_CACHE_DIR/symscatter-programs`` when that variable is set (one folder
    holds every compiled program), else the ``programs`` folder of the package's cache
    (:func:`scatter.cache.cache_dir`). The folder is not created here
    (:class:`scatter.detect.programs.ProgramCache` creates it on the first write, and a folder
    it cannot write is skipped); nothing global changes.

    Returns
    -------
    str or None

    Examples
    --------
    >>> from scatter.detect import load_model
    >>> det = load_model("default", program_cache=program_cache_dir())  # doctest: +SKIP
    """
    if caches_disabled():
        return None
    if os.environ.get(_JAX_CACHE_VAR):
        return os.path.join(os.environ[_JAX_CACHE_VAR], "symscatter-programs")
    return cache_dir("programs")


def jax_cache_dir():
    """The folder of JAX's persistent compilation cache, or None when caches are off.

    ``$JAX_COMPILATION_CACHE_DIR`` when set, else the ``jax`` folder of the package's cache
    (not created here).

    Returns
    -------
    str or None
    """
    if caches_disabled():
        return None
    return os.environ.get(_JAX_CACHE_VAR) or cache_dir("jax")


def enable_jax_cache(path=None):
    """Turn on JAX's persistent compilation cache for this process.

    Process-wide, and effective only before the first compilation (JAX sets its cache up
    once). With ``SYMSCATTER_NO_JAX_CACHE`` set the cache is turned off instead.

    Parameters
    ----------
    path : str or os.PathLike or None
        The cache folder (created when missing); None: :func:`jax_cache_dir`.

    Returns
    -------
    str or None
        The folder in use, or None when the cache is off (turned off, or the folder cannot be
        created).
    """
    if caches_disabled():
        disable_jax_cache()
        return None
    path = os.fspath(path) if path is not None else jax_cache_dir()
    try:
        os.makedirs(path, exist_ok=True)
    except OSError:
        return None
    import jax

    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_enable_compilation_cache", True)
    return path


def disable_jax_cache():
    """Turn off JAX's persistent compilation cache for this process (also one that
    ``JAX_COMPILATION_CACHE_DIR`` turned on); process-wide, before the first compilation."""
    import jax

    jax.config.update("jax_enable_compilation_cache", False)


def cpu_device_count(environ=None):
    """How many JAX CPU devices :func:`use_every_core` makes.

    Parameters
    ----------
    environ : Mapping or None
        Environment to read (None: ``os.environ``).

    Returns
    -------
    int or None
        None when ``XLA_FLAGS`` already sets ``--xla_force_host_platform_device_count``
        (the user's choice is kept); else ``SYMSCATTER_CPU_DEVICES`` when set, else the cores
        this process may run on, at most 64.

    Raises
    ------
    ScatterError
        When ``SYMSCATTER_CPU_DEVICES`` is not a positive integer.

    Examples
    --------
    >>> cpu_device_count({"SYMSCATTER_CPU_DEVICES": "4"})
    4
    >>> cpu_device_count({"XLA_FLAGS": "--xla_force_host_platform_device_count=8"}) is None
    True
    """
    env = os.environ if environ is None else environ
    if _XLA_DEVICE_FLAG in env.get("XLA_FLAGS", ""):
        return None
    wanted = env.get(CPU_DEVICES_VAR, "").strip()
    if wanted:
        if not wanted.isdigit() or int(wanted) < 1:
            raise ScatterError(f"{CPU_DEVICES_VAR} must be a positive integer; got {wanted!r}")
        return min(int(wanted), _MAX_CPU_DEVICES)
    from scatter._compile import usable_cores

    return min(usable_cores(), _MAX_CPU_DEVICES)


def use_every_core(n=None):
    """Split the host CPU into ``n`` JAX devices (``jax_num_cpu_devices``).

    Process-wide, and possible only before JAX starts its backend (the first JAX computation):
    afterwards the devices stay as they are.

    Parameters
    ----------
    n : int or None
        Number of devices; None: :func:`cpu_device_count`.

    Returns
    -------
    int or None
        The number of devices set, or None when nothing changed (``XLA_FLAGS`` sets the count,
        JAX's backend is already running, or this JAX has no such setting).

    Raises
    ------
    ScatterError
        When ``n`` or ``SYMSCATTER_CPU_DEVICES`` is not a positive integer.
    """
    if n is None:
        n = cpu_device_count()
        if n is None:
            return None
    else:
        n = check_int(n, "n", unit="number of devices")
    import jax

    try:
        jax.config.update("jax_num_cpu_devices", n)
    except (AttributeError, RuntimeError, ValueError):  # older JAX, or its backend is up
        return None
    return n


def configure(*, cpu_devices=True, jax_cache=True, allocator=True):
    """Set up this process to run the detector: devices, JAX's cache, the allocator.

    Call it once at the start of a program, before any JAX computation; a library should not
    call it (every setting is process-wide).

    Parameters
    ----------
    cpu_devices : bool or int
        True: :func:`use_every_core`; an int: that many devices; False: leave the devices.
    jax_cache : bool or None
        True: :func:`enable_jax_cache`; False: :func:`disable_jax_cache` (for a program that
        loads the detector with :func:`program_cache_dir`); None: leave it.
    allocator : bool
        :func:`reuse_large_allocations` (glibc; a process that keeps its peak heap until it
        exits, the right trade for a batch job).

    Returns
    -------
    dict
        What was set: ``cpu_devices`` (int or None), ``jax_cache`` (folder or None),
        ``allocator`` (bool).

    Raises
    ------
    ScatterError
        For an invalid device count (argument or ``SYMSCATTER_CPU_DEVICES``).

    Examples
    --------
    >>> import scatter.runtime
    >>> scatter.runtime.configure()  # doctest: +SKIP
    {'cpu_devices': 2, 'jax_cache': '/home/me/.cache/symscatter/jax', 'allocator': True}
    """
    done = {"cpu_devices": None, "jax_cache": None, "allocator": False}
    if allocator:
        done["allocator"] = reuse_large_allocations()
    if cpu_devices is True:
        done["cpu_devices"] = use_every_core()
    elif cpu_devices is not False:
        done["cpu_devices"] = use_every_core(cpu_devices)
    if jax_cache is True:
        done["jax_cache"] = enable_jax_cache()
    elif jax_cache is False:
        disable_jax_cache()
    return done
