"""Campaigns: score whole spaces resumably into shards, compacted to Parquet score tables."""

from zeronas.campaign.run import CampaignResult, run_campaign
from zeronas.campaign.shards import ShardWriter, read_shard
from zeronas.campaign.shipped import shipped_dir
from zeronas.campaign.tables import SCHEMA, compact, load_class_map, load_scores, merge

__all__ = [
    "SCHEMA",
    "CampaignResult",
    "ShardWriter",
    "compact",
    "load_class_map",
    "load_scores",
    "merge",
    "read_shard",
    "run_campaign",
    "shipped_dir",
]
