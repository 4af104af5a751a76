"""The sources of corpus v4: which files of which Debian package, their licence and their split.

Helper of ``build_corpus_v4.py``. The table names files, not labels: every file is labelled
from its spectrogram in ``corpus_v4_labels.csv`` (see ``corpus_v4.py``); a file that nobody
reviewed is ``unreviewed`` and training leaves it out.

The split is by whole package (:data:`SPLIT_OF_PACKAGE`), fixed here so that it is the same on
every machine and never depends on a seed or on the files found:

- **test** (run once per shipped model; never used to choose anything):
  ``megaglest-data`` (six mixed-songbird field soundscapes, single owl, rooster, hawk and
  chicken calls, insect-only nights, rain, wind), ``scorched3d-data`` (bird soundscapes and
  chirps at 11 kHz, gulls, frogs, rain, ocean, aircraft), ``ufoai-sound`` (a 114-s night insect
  chorus, crickets, city traffic, a news broadcast, thunder, water, machines),
  ``simutrans-pak64`` (urban and transport sounds, seagulls) and ``flightgear-data-base``
  (spoken cockpit call-outs, engines, rain, wind, thunder). Together they hold songbird
  soundscapes, single calls, night insects and frogs, speech and urban sound, which
  :func:`corpus_v4.check_test_coverage` checks on the reviewed labels.
- **val** (model selection and thresholds): ``wesnoth-1.16-data`` (three dense bird choruses,
  crickets at night), ``lincity-ng-data`` (park birds, ducks, 120 urban and industrial sounds),
  ``lugaru-data`` (desert wind, a hawk, dogs), ``sonic-pi-samples`` (a crow, tonal instrument
  samples), ``freecol`` (a birdsong intro), ``redeclipse-data`` (forest and river loops with
  songbirds, night crickets over traffic, cicadas, water, wind).
- **train**: everything else: ``qabcs-data`` (22 named bird species, one call each, and 200
  other animals, instruments and objects), ``widelands-data`` (denoised bird, cricket and frog
  clips), ``flare-game``, ``openclonk-data``, ``openttd-opensfx``, ``supertuxkart-data``,
  ``0ad-data`` (day-time soundscapes, a peacock, farm animals, voices, weather),
  ``berusky2-data`` (gull shores, a forest, crows and chirps, a frog chorus and frog croaks,
  city traffic, weather) and ``scratch`` (single animal calls, crickets, everyday sounds).

Why this way: the packages richest in wild songbird soundscapes are ``megaglest-data`` (six
field recordings), ``wesnoth-1.16-data`` (three choruses) and ``0ad-data`` (day-time
ambiences); one goes to each split, so that each split sees real soundscapes. The package with
the most single calls (``qabcs-data``, 22 species) trains, and the test's single calls come
from other recordists (``megaglest-data``, ``scorched3d-data``), so a test score is a score on
recordings from sources never heard in training. Copies of one recording across packages are
kept once, in the most held-out split (``build_corpus_v4``'s deduplication).

Packages reserved for evaluation in ``shared/DATA.md`` (:data:`RESERVED`) are never fetched:
:func:`check_sources` refuses them.
"""

from __future__ import annotations

import dataclasses

__all__ = [
    "ARCHIVE_KINDS",
    "RESERVED",
    "SOURCES",
    "SPLITS",
    "SPLIT_OF_PACKAGE",
    "Source",
    "check_sources",
]

SPLITS = ("train", "val", "test")
ARCHIVE_KINDS = ("", "zip", "c4group", "cat")

#: Packages that feed held-out evaluations of the shipped detector: never fetched or used.
RESERVED = frozenset({
    "gcompris-qt-data", "hawkears", "opensoundscape", "pykanto", "yaaat", "crowsetta", "vocalpy",
    "moove", "maui-software", "ambience", "btanks-data", "pyannote-audio",
})

SPLIT_OF_PACKAGE = {
    "megaglest-data": "test",
    "scorched3d-data": "test",
    "ufoai-sound": "test",
    "simutrans-pak64": "test",
    "flightgear-data-base": "test",
    "wesnoth-1.16-data": "val",
    "lincity-ng-data": "val",
    "lugaru-data": "val",
    "sonic-pi-samples": "val",
    "freecol": "val",
    "redeclipse-data": "val",
    "qabcs-data": "train",
    "widelands-data": "train",
    "flare-game": "train",
    "openclonk-data": "train",
    "openttd-opensfx": "train",
    "supertuxkart-data": "train",
    "0ad-data": "train",
    "berusky2-data": "train",
    "scratch": "train",
}


@dataclasses.dataclass(frozen=True)
class Source:
    """Files of one package taken into the corpus.

    Parameters
    ----------
    package : str
        Debian package name.
    licence : str
        Licence of the files as the package's copyright file (or the archive's own licence
        file) states it.
    paths : tuple of str
        ``fnmatch`` patterns (``*`` matches across ``/``) of the files: paths inside the package,
        or, with ``archive``, member names inside that archive.
    archive : str
        Path inside the package of an archive holding the files (``""``: none).
    archive_kind : str
        ``"zip"`` (also ``.pk3``), ``"c4group"`` (OpenClonk ``.ocg``) or ``"cat"`` (OpenTTD
        sounds); ``""`` without an archive.
    """

    package: str
    licence: str
    paths: tuple
    archive: str = ""
    archive_kind: str = ""

    @property
    def members(self) -> tuple:
        """What to unpack from the ``.deb`` (tar wildcards): the archive, or the paths."""
        return (self.archive,) if self.archive else tuple(self.paths)


_MG = "usr/share/games/megaglest/tilesets"
_WL = "usr/share/games/widelands/data"
_S3 = "usr/share/games/scorched3d/data/globalmods/none/data/wav/misc"
_FG = "usr/share/games/flightgear/Sounds"
_STK = "usr/share/games/supertuxkart/data"
_SP = "usr/share/sonic-pi/samples"
_LU = "usr/share/games/lugaru/Sounds"
_FC = "usr/share/games/freecol"
_RE = "usr/share/games/redeclipse/data/sounds/ambience"
_BK = "usr/share/games/berusky2/sound/sound"
_SC = "usr/share/scratch/Media/Sounds"

#: The sources (order: the test packages first, so that copies are kept there).
SOURCES = (
    Source("megaglest-data", "CC-BY-SA-3.0", (f"{_MG}/*/sounds/*",)),
    Source("scorched3d-data", "GPL-2+", (f"{_S3}/*.wav",)),
    Source("ufoai-sound", "GPL-2+ / CC-BY-3.0 / CC-BY-SA-3.0 (per file)", tuple(
        f"sound/ambience/{n}" for n in (
            "arcticwind.ogg", "city_abnd_ufoai_atm.ogg", "cricket_loop.ogg", "fire*.ogg",
            "minepump03.ogg", "sand-city.ogg", "thunder*.ogg", "ufo_night_atm.ogg",
            "water*.ogg", "wind_turbine.ogg", "machine1.ogg", "tv_newswav.ogg",
            "radiomessage.ogg", "disco.ogg", "steam.ogg", "creak.ogg", "hum.ogg")),
        archive="usr/share/games/ufoai/base/0snd.pk3", archive_kind="zip"),
    Source("simutrans-pak64", "Artistic / GPL-2+", ("usr/share/games/simutrans/pak/sound/*.wav",)),
    Source("flightgear-data-base", "GPL-2+", tuple(
        f"{_FG}/{n}" for n in (
            "rain*.wav", "thunder*.wav", "wind*.wav", "wave.wav", "jet.wav", "helicopter.wav",
            "engine-prop.wav", "prop.wav", "rotor.wav", "turboprop1.wav", "mk-viii/*.wav",
            "tcas/female/*.wav"))),
    Source("wesnoth-1.16-data", "GPL-2+",
           ("usr/share/games/wesnoth/1.16/data/core/sounds/ambient/*.ogg",)),
    Source("lincity-ng-data", "GPL-2+", ("usr/share/games/lincity-ng/sounds/*.wav",)),
    Source("lugaru-data", "GPL-2+ / CC-BY-SA-3.0 (per file)", tuple(
        f"{_LU}/{n}" for n in ("DesertAmbient.ogg", "Wind.ogg", "Hawk.ogg", "Bark*.ogg",
                               "BushRustle.ogg", "Fire.ogg"))),
    Source("sonic-pi-samples", "CC0-1.0 / CC-BY (per file)", tuple(
        f"{_SP}/{n}.flac" for n in (
            "misc_crow", "misc_burp", "ambi_choir", "ambi_piano", "elec_chime", "elec_ping",
            "elec_bell", "elec_triangle", "perc_bell", "guit_harmonics", "loop_safari",
            "loop_amen", "tabla_ghe1", "bass_voxy_c"))),
    Source("freecol", "GPL-2+", (f"{_FC}/*/resources/sound/intro/*.ogg",
                                 f"{_FC}/base/resources/sound/intro.ogg",
                                 f"{_FC}/default/resources/sound/event/fountain.ogg")),
    Source("redeclipse-data", "CC-BY-SA-3.0 (Red Eclipse Team; freesound.org authors per file)",
           tuple(f"{_RE}/{n}.ogg" for n in (
               "cycadas", "nightcrickets", "forest?", "creek", "river", "water", "waterfall*",
               "wind", "blowwind", "hollowwind", "dizzywind", "wastewind", "distant_cars",
               "fire", "cavedrip", "lava*"))),
    Source("qabcs-data", "GPL-3+", ("usr/share/qabcs/abcs/all/noises/*.ogg",)),
    Source("widelands-data", "GPL-2+", (f"{_WL}/sound/animals/*.ogg",
                                        f"{_WL}/world/critters/duck/*.ogg")),
    Source("flare-game", "CC-BY-SA-3.0",
           ("usr/share/games/flare/mods/*/soundfx/environment/*.ogg",)),
    Source("openclonk-data", "ISC / CC-BY-3.0 / CC0 (per file)", (
        "Environment.ocg/BirdsLoop.ogg", "Environment.ocg/WindLoop.ogg",
        "Environment.ocg/Waterfall.ogg", "Environment.ocg/Lightning.ocg/*",
        "Animals.ocg/MosquitoBuzz.ogg", "Liquids.ocg/StereoRain.ogg", "Fire.ocg/Fire.ogg"),
        archive="usr/share/games/openclonk/Sound.ocg", archive_kind="c4group"),
    Source("openttd-opensfx", "CC-BY-SA-3.0 / CC-BY-3.0 / CC0 (per sound, in its name)", ("*",),
           archive="usr/share/games/openttd/baseset/opensfx/opensfx.cat", archive_kind="cat"),
    Source("supertuxkart-data", "GPL-3+ / CC-BY-SA (per file)", tuple(
        f"{_STK}/{n}" for n in (
            "sfx/exotic-birds*.ogg", "sfx/rain.ogg", "sfx/river_loop.ogg",
            "sfx/waterfall_loop_2.ogg", "sfx/thunder.ogg", "sfx/lenautile_restaurant.ogg",
            "sfx/sara_airport_pa.ogg", "sfx/airplane_jetEngine.ogg", "sfx/engine_large.ogg",
            "sfx/fireworks_show.ogg", "tracks/black_forest/*.ogg", "tracks/scotland/sheep.ogg",
            "tracks/introcutscene2/nolok_speech.ogg"))),
    Source("berusky2-data", "GPL-2+ (AnakreoN)", tuple(
        f"{_BK}/{n}.wav" for n in (
            "Ptak*", "ptak*", "racek*", "Crow*", "frog*", "swamp*", "les*", "mesto*", "village",
            "Vitr*", "Voda*", "Auto*", "Hrom*", "Dest*", "parnik*", "zvon*", "voc*", "pray*"))),
    Source("scratch", "CC-BY-SA-3.0 (MIT)", (f"{_SC}/Animal/*.wav", f"{_SC}/Effects/*.wav")),
    Source("0ad-data", "CC-BY-SA-3.0 (Wildfire Games)", tuple(
        f"audio/{n}" for n in (
            "ambient/dayscape/*.ogg", "ambient/weather/*.ogg", "ambient/water/*.ogg",
            "ambient/building/*.ogg", "actor/fauna/animal/chicken_*.ogg",
            "actor/fauna/animal/flamingo_*.ogg", "actor/fauna/animal/peacock_*.ogg",
            "actor/fauna/animal/sheep_*.ogg", "actor/fauna/animal/cattle_0[1-3].ogg",
            "actor/fauna/animal/pig_1*.ogg", "voice/greek/civ/civ_*_1.ogg")),
        archive="usr/share/games/0ad/mods/public/public.zip", archive_kind="zip"),
)


def check_sources(sources) -> tuple:
    """Check a source table; return it as a tuple.

    Raises
    ------
    ValueError
        A row is not a :class:`Source`, names a reserved package or a package without a split,
        has no paths, an absolute path, or an archive kind that does not fit its archive.
    """
    sources = tuple(sources)
    if not sources:
        raise ValueError("sources is empty; expected at least one Source row")
    for src in sources:
        if not isinstance(src, Source):
            raise ValueError(f"sources must hold Source rows; got {src!r}")
        if src.package in RESERVED:
            raise ValueError(f"package {src.package!r} is reserved for evaluation (DATA.md): "
                             "it must never be fetched for training")
        if src.package not in SPLIT_OF_PACKAGE:
            raise ValueError(f"package {src.package!r} has no split; add it to "
                             "SPLIT_OF_PACKAGE")
        if not src.paths or not all(isinstance(p, str) and p for p in src.paths):
            raise ValueError(f"Source {src.package}: paths must be non-empty patterns; got "
                             f"{src.paths!r}")
        if any(p.startswith("/") for p in (*src.paths, src.archive)):
            raise ValueError(f"Source {src.package}: paths are relative to the package root "
                             "(no leading '/')")
        if src.archive_kind not in ARCHIVE_KINDS or bool(src.archive) != bool(src.archive_kind):
            raise ValueError(f"Source {src.package}: archive {src.archive!r} with archive_kind "
                             f"{src.archive_kind!r}; expected one of {ARCHIVE_KINDS[1:]} with an "
                             "archive, '' without")
    return sources
