"""The live pipeline: spool → parse → normalize → enrich → detect → alerts → store."""
