"""Recording what the console receives, for replay (``docs/recording.md``).

:class:`~console.recording.recorder.Recorder` taps the store's inputs and the command outcomes and writes them, off the
console's loop, to an SQLite file of zstd-compressed batches and periodic checkpoints
(:mod:`console.recording.format`); :class:`~console.recording.reader.RecordingReader` reads one back. No Textual,
no Rich (an import-linter contract): the app only starts it and shows its one-line problems.
"""
