-- Prediction accuracy per campaign: mean absolute error of each predicted figure against the
-- outcome posted back later (ClickHouseStore.record_outcome), and the mean stated confidence.
SELECT *
FROM prediction_accuracy
ORDER BY with_outcome DESC, campaign_id
