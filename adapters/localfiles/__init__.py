"""Files the bot keeps on its own disk: fetched files (for upload) and write_file's templates."""

from adapters.localfiles.store import DirectoryFetchedFiles, DirectoryTemplates

__all__ = ["DirectoryFetchedFiles", "DirectoryTemplates"]
