"""Reload skills so existing databases get this round's words: sorting and putting away (分类整理, 归位,
拆箱, 重新摆过), limescale and move-out cleans (水垢, 瓷砖缝, 彻底的, move-out clean), dog breeds (golden
retriever, labrador, corgi, 贵宾), brunch and bakes (cookies, 曲奇, 松饼, brunch), unsteady and freezing
walking (走路不稳, 站不稳, 冻住, 成日跌, unsteady), last days (最后嗰段日子, final days), low mood (情绪低落,
闷闷不乐, 不爱出门, 丧偶), limbs to practise (手脚要练, 练手脚), typed 压仓 / 褥仓, torn clothes and Cantonese
车 (烂咗要补, 穿窿, 车边), spoons and chopsticks not held (拿不住勺子, 揸唔住匙羹), soup herbs (药材, 汤料),
meal balancing (三餐搭配, 算营养), minding the older child (看老大, 带大宝), an elderly couple (老两口, 老夫老妻),
the night toilet (扶起夜, 夜尿) and Cantonese 上落学."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from service.taxonomy.piccolo_migrations.taxonomy_2026_11_27t05_21_20_000000 import load_reference_data

ID = "2026-11-28T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "reload skills (sorting, limescale, dog breeds, bakes, unsteady walking, low mood, soup herbs)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="taxonomy", description=DESCRIPTION)
    manager.add_raw(load_reference_data)
    return manager
